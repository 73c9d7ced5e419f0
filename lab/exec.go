package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// waitDelay bounds how long a command's output pipes may stay open after
// the command itself has exited or been killed.
const waitDelay = 2 * time.Second

// Run runs argv inside network namespace ns (`ip netns exec NS argv...`)
// and returns its combined stdout and stderr. A non-zero exit is an error
// that carries the command line and the end of its output.
func Run(ctx context.Context, ns string, argv ...string) (string, error) {
	cmd := nsCommand(ctx, ns, argv...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		err = cmdError(ctx, ns, argv, err, out.String())
	}
	return out.String(), err
}

// RunSplit is Run with stdout and stderr kept apart, for commands whose
// stdout is parsed (JSON) or whose stderr is checked.
func RunSplit(ctx context.Context, ns string, argv ...string) (stdout, stderr string, err error) {
	cmd := nsCommand(ctx, ns, argv...)
	var o, e bytes.Buffer
	cmd.Stdout = &o
	cmd.Stderr = &e
	err = cmd.Run()
	if err != nil {
		err = cmdError(ctx, ns, argv, err, e.String()+o.String())
	}
	return o.String(), e.String(), err
}

func nsCommand(ctx context.Context, ns string, argv ...string) *exec.Cmd {
	args := append([]string{"netns", "exec", ns}, argv...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.WaitDelay = waitDelay
	return cmd
}

// ip runs `ip args...` in the caller's namespace; the lab only uses it for
// `ip netns ...` and `ip -n NS ...`, which act on the lab's namespaces.
func ip(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.WaitDelay = waitDelay
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := "ip " + strings.Join(args, " ")
		if t := tail(string(out)); t != "" {
			return string(out), fmt.Errorf("%s: %w: %s", msg, err, t)
		}
		return string(out), fmt.Errorf("%s: %w", msg, err)
	}
	return string(out), nil
}

func cmdError(ctx context.Context, ns string, argv []string, err error, out string) error {
	if ctx.Err() != nil {
		err = fmt.Errorf("%v: %w", err, context.Cause(ctx))
	}
	msg := fmt.Sprintf("[%s] %s: %v", ns, strings.Join(argv, " "), err)
	if t := tail(out); t != "" {
		msg += ": " + t
	}
	return &CmdError{Msg: msg, Err: err, Output: out}
}

// CmdError is a command that failed; Output is everything it printed.
type CmdError struct {
	Msg    string
	Err    error
	Output string
}

func (e *CmdError) Error() string { return e.Msg }
func (e *CmdError) Unwrap() error { return e.Err }

// tail returns the last few non-empty lines of out on one line.
func tail(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 4 {
		lines = lines[len(lines)-4:]
	}
	return strings.Join(lines, " | ")
}

// PingStats is the summary line of one ping run.
type PingStats struct {
	Transmitted int
	Received    int
}

var pingSummary = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (?:packets )?received`)

// ParsePing reads the "N packets transmitted, M received" summary of
// iputils ping (IPv4 and IPv6 print the same line).
func ParsePing(out string) (PingStats, error) {
	m := pingSummary.FindStringSubmatch(out)
	if m == nil {
		return PingStats{}, fmt.Errorf("no summary line in ping output: %s", tail(out))
	}
	tx, _ := strconv.Atoi(m[1])
	rx, _ := strconv.Atoi(m[2])
	return PingStats{Transmitted: tx, Received: rx}, nil
}

// PingCount pings dst (IPv4 or IPv6) count times from namespace ns, 0.2 s
// apart, waiting at most 1 s for each reply. It returns what ping counted;
// the error is non-nil unless every echo request got its reply.
func PingCount(ctx context.Context, ns, dst string, count int) (PingStats, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(count)*300*time.Millisecond+10*time.Second)
	defer cancel()
	argv := []string{"ping", "-n", "-c", strconv.Itoa(count), "-i", "0.2", "-W", "1", dst}
	out, runErr := Run(ctx, ns, argv...)
	st, err := ParsePing(out)
	if err != nil {
		if runErr != nil {
			return st, runErr
		}
		return st, fmt.Errorf("[%s] %s: %w", ns, strings.Join(argv, " "), err)
	}
	if st.Received != count || st.Transmitted != count {
		return st, fmt.Errorf("[%s] ping %s: %d/%d replies (%d sent): %s",
			ns, dst, st.Received, count, st.Transmitted, tail(out))
	}
	return st, nil
}

// Ping pings dst from ns count times and returns how many replies came
// back; the error is non-nil unless all of them did.
func Ping(ctx context.Context, ns, dst string, count int) (int, error) {
	st, err := PingCount(ctx, ns, dst, count)
	return st.Received, err
}

// iperfPort is iperf3's default port; every server runs in its own
// namespace, so they never collide.
const iperfPort = "5201"

// IPerf runs one iperf3 TCP test of the given length from clientNS to
// serverAddr in serverNS and returns the throughput the receiver saw, in
// Gbit/s. The server (`iperf3 -s -1`) is always killed before returning.
func IPerf(ctx context.Context, serverNS, serverAddr, clientNS string, seconds int) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second+30*time.Second)
	defer cancel()

	srv := nsCommand(ctx, serverNS, "iperf3", "-s", "-1", "-B", serverAddr, "-p", iperfPort)
	var srvOut bytes.Buffer
	srv.Stdout = &srvOut
	srv.Stderr = &srvOut
	if err := srv.Start(); err != nil {
		return 0, fmt.Errorf("[%s] start iperf3 server: %w", serverNS, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = srv.Wait()
		close(exited)
	}()
	defer func() {
		_ = srv.Process.Kill()
		<-exited
	}()

	if err := waitListen(ctx, serverNS, iperfPort, exited); err != nil {
		return 0, fmt.Errorf("[%s] iperf3 server on %s: %w: %s", serverNS, serverAddr, err, tail(srvOut.String()))
	}

	stdout, _, err := RunSplit(ctx, clientNS, "iperf3", "-c", serverAddr, "-p", iperfPort,
		"-t", strconv.Itoa(seconds), "-J", "--connect-timeout", "3000")
	gbps, perr := ParseIPerf([]byte(stdout))
	if perr != nil {
		if err != nil {
			return 0, fmt.Errorf("%w (%v)", err, perr)
		}
		return 0, fmt.Errorf("[%s] iperf3 -c %s: %w", clientNS, serverAddr, perr)
	}
	return gbps, err
}

// waitListen polls until something listens on TCP port in ns.
func waitListen(ctx context.Context, ns, port string, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := Run(ctx, ns, "ss", "-Hltn", "sport = :"+port)
		if err == nil && strings.TrimSpace(out) != "" {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before listening")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("not listening after 10s")
		}
	}
}

// ParseIPerf reads an iperf3 --json client report and returns the
// receiver's throughput in Gbit/s.
func ParseIPerf(b []byte) (float64, error) {
	var r struct {
		Error string `json:"error"`
		End   struct {
			SumReceived *struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, fmt.Errorf("iperf3 --json output: %w: %s", err, tail(string(b)))
	}
	if r.Error != "" {
		return 0, fmt.Errorf("iperf3: %s", r.Error)
	}
	if r.End.SumReceived == nil {
		return 0, errors.New("iperf3 --json output has no end.sum_received")
	}
	return r.End.SumReceived.BitsPerSecond / 1e9, nil
}
