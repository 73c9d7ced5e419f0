package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"
)

// capture is a tcpdump writing what it sees on one netdev of a namespace
// to a pcap file.
type capture struct {
	what string // "[NS] tcpdump -i DEV ..."
	cmd  *exec.Cmd
	file string
	done chan struct{}
	err  error // tcpdump's exit, once done is closed

	mu     sync.Mutex
	stderr strings.Builder
}

// startCapture runs `tcpdump -i dev -n -U --immediate-mode -w FILE
// args...` in ns and returns once tcpdump is listening; args are options
// (-Q in) and a filter. Immediate mode: packets still in a capture block
// when tcpdump is stopped would otherwise be lost. The capture is stopped when the test ends if stop was not
// called.
func startCapture(t *testing.T, ctx context.Context, ns, dev string, args ...string) *capture {
	t.Helper()
	file := filepath.Join(t.TempDir(), dev+".pcap")
	// -Z root: tcpdump would otherwise give up root and not be able to
	// write into the test's temp dir.
	argv := append([]string{"netns", "exec", ns, "tcpdump", "-i", dev, "-n", "-U", "--immediate-mode", "-Z", "root", "-w", file}, args...)
	c := &capture{
		what: fmt.Sprintf("[%s] tcpdump -i %s %s", ns, dev, strings.Join(args, " ")),
		cmd:  exec.CommandContext(ctx, "ip", argv...),
		file: file,
		done: make(chan struct{}),
	}
	c.cmd.WaitDelay = 2 * time.Second
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", c.what, err)
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			c.mu.Lock()
			c.stderr.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			if !once && strings.Contains(sc.Text(), "listening on") {
				once = true
				close(listening)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill() })
	select {
	case <-listening:
	case <-c.done:
		t.Fatalf("%s exited before listening: %v: %s", c.what, c.err, c.output())
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not listening after 10 s: %s", c.what, c.output())
	}
	return c
}

func (c *capture) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimSpace(c.stderr.String())
}

func (c *capture) kill() {
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// stop ends the capture (SIGINT: tcpdump writes out what it has) after a
// short grace for packets still in flight, and returns the packets.
func (c *capture) stop(t *testing.T) []gopacket.Packet {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	// `ip netns exec` execs tcpdump: the pid is tcpdump's.
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.kill()
		t.Fatalf("%s: did not stop on SIGINT", c.what)
	}
	var exit *exec.ExitError
	if c.err != nil && !errors.As(c.err, &exit) {
		t.Fatalf("%s: %v: %s", c.what, c.err, c.output())
	}
	pkts, err := readPcap(c.file)
	if err != nil {
		t.Fatalf("%s: %v (tcpdump said: %s)", c.what, err, c.output())
	}
	t.Logf("%s: %d packets", c.what, len(pkts))
	return pkts
}

// readPcap decodes every packet of a pcap file by its link type.
func readPcap(file string) ([]gopacket.Packet, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	var pkts []gopacket.Packet
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return pkts, nil
		}
		if err != nil {
			return pkts, fmt.Errorf("read %s: %w", file, err)
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		p.Metadata().CaptureInfo = ci
		pkts = append(pkts, p)
	}
}
