package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/xtunnel/xtunnel/lab"
)

// TestLinkAddErrors feeds `link add` wrong input as root: each must exit
// non-zero with one line on stderr naming the problem, and leave no netdev,
// no tunnel and no pin behind. A vxlan port that a FOU port holds (and the
// reverse) is refused the same way.
func TestLinkAddErrors(t *testing.T) {
	requireLab(t)
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "cli")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS}
	ns := l.HostA
	if err := l.Attach(ctx, x); err != nil {
		t.Fatal(err)
	}
	// A tunnel that exists, for the duplicate-name case.
	if _, _, err := x.Run(ctx, ns, "link", "add", "name", "xt0", "type", "gre",
		"local", lab.UnderlayA, "remote", lab.UnderlayB, "key", "1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, _, err := x.Run(ctx, ns, "link", "del", "xt0"); err != nil {
			t.Errorf("link del xt0: %v", err)
		}
	})

	netdevs := func() []string {
		t.Helper()
		out, err := lab.Run(ctx, ns, "ip", "-o", "link")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, line := range strings.Split(out, "\n") {
			// "7: xt0@peer: <POINTOPOINT,NOARP> mtu ..."
			if f := strings.Fields(line); len(f) > 1 {
				name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return names
	}
	linkShow := func() string {
		t.Helper()
		out, _, err := x.Run(ctx, ns, "link", "show")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	allPins := func() []string {
		t.Helper()
		var all []string
		for _, d := range stateDirs(t, l.BPFFS) {
			for _, p := range pins(t, d) {
				all = append(all, filepath.Join(d, p))
			}
		}
		return all
	}
	fouShow := func() string {
		t.Helper()
		out, _, err := x.Run(ctx, ns, "fou", "show")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// A FOU port and a vxlan, for the port clashes.
	xt(t, ctx, x, ns, "fou", "add", "port", "4800", "ipproto", "4")
	t.Cleanup(func() {
		if _, _, err := x.Run(ctx, ns, "fou", "del", "port", "4800"); err != nil {
			t.Errorf("fou del port 4800: %v", err)
		}
	})
	addTunnelOn(t, ctx, x, ns, "name", "vx0", "type", "vxlan", "id", "7", "local", lab.UnderlayA, "remote", lab.UnderlayB, "dstport", "4801")
	devsBefore, showBefore, pinsBefore := netdevs(), linkShow(), allPins()
	fouBefore := fouShow()

	L, R := lab.UnderlayA, lab.UnderlayB
	for _, tc := range []struct {
		name    string
		args    []string // after link add; nil: fou add port 4801 gue
		mention string   // the message must name this
		bug     string   // knownBugs key of a wrong message
	}{
		{"unknown keyword", []string{"name", "xt1", "type", "gre", "local", L, "remote", R, "frobnicate", "7"}, "frobnicate", ""},
		{"unknown type", []string{"name", "xt1", "type", "bogus", "local", L, "remote", R}, "bogus", ""},
		{"missing remote", []string{"name", "xt1", "type", "gre", "local", L}, "remote", ""},
		{"bad address", []string{"name", "xt1", "type", "gre", "local", L, "remote", "198.51.100.256"}, "198.51.100.256", ""},
		{"duplicate tunnel name", []string{"name", "xt0", "type", "gre", "local", L, "remote", R, "key", "2"}, "xt0", ""},
		{"name of another netdev", []string{"name", lab.DevA, "type", "ipip", "local", L, "remote", R}, lab.DevA, ""},
		{"unknown dev", []string{"name", "xt1", "type", "gre", "local", L, "remote", R, "dev", "nosuchdev0"}, "nosuchdev0", ""},
		{"VNI too big", []string{"name", "xt1", "type", "vxlan", "id", "16777216", "local", L, "remote", R}, "16777216", ""},
		{"vxlan without id", []string{"name", "xt1", "type", "vxlan", "local", L, "remote", R}, "id VNI", ""},
		{"erspan_dir with erspan_ver 1", []string{"name", "xt1", "type", "erspan", "local", L, "remote", R, "key", "1",
			"erspan_ver", "1", "erspan_dir", "egress"}, "erspan_dir", ""},
		{"erspan_hwid too big", []string{"name", "xt1", "type", "erspan", "local", L, "remote", R, "key", "1",
			"erspan_ver", "2", "erspan_hwid", "64"}, "erspan_hwid", ""},
		{"vxlan on a FOU port", []string{"name", "xt1", "type", "vxlan", "id", "8", "local", L, "remote", R, "dstport", "4800"}, "4800", ""},
		{"FOU port of a vxlan", nil, "vxlan", "fou-add-vxlan-port-message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"link", "add"}, tc.args...)
			if tc.args == nil {
				args = []string{"fou", "add", "port", "4801", "gue"}
			}
			_, stderr, err := x.Run(ctx, ns, args...)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("%s: want a non-zero exit, got %v", strings.Join(args, " "), err)
			}
			if bug, ok := knownBugs[tc.bug]; ok && oneLineProblem(stderr, tc.mention) != "" {
				t.Logf("known bug: %s: stderr %q", bug, strings.TrimSpace(stderr))
			} else {
				checkOneLine(t, stderr, tc.mention)
			}
			if got := netdevs(); !slices.Equal(got, devsBefore) {
				t.Errorf("netdevs changed: before %v, after %v", devsBefore, got)
			}
			if got := linkShow(); got != showBefore {
				t.Errorf("link show changed:\nbefore:\n%s\nafter:\n%s", showBefore, got)
			}
			if got := allPins(); !slices.Equal(got, pinsBefore) {
				t.Errorf("pins changed: before %v, after %v", pinsBefore, got)
			}
			if got := fouShow(); got != fouBefore {
				t.Errorf("fou show changed:\nbefore:\n%s\nafter:\n%s", fouBefore, got)
			}
		})
	}
}

// TestNotRoot runs `xtunnel attach lo` as nobody: it must refuse with a
// message that says root is needed.
func TestNotRoot(t *testing.T) {
	requireXtunnel(t)
	ctx := testCtx(t)
	cmd := exec.CommandContext(ctx, xtunnelBin, "attach", "lo")
	cmd.Dir = "/"
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("xtunnel attach lo as uid 65534: want a non-zero exit, got %v (stdout %q)", err, stdout.String())
	}
	checkOneLine(t, stderr.String(), "root")
}

// checkOneLine wants stderr to be one non-empty line that mentions word
// (case-insensitively).
func checkOneLine(t *testing.T, stderr, word string) {
	t.Helper()
	if p := oneLineProblem(stderr, word); p != "" {
		t.Error(p)
	} else {
		t.Logf("stderr: %s", strings.TrimSpace(stderr))
	}
}

// oneLineProblem says what is wrong with stderr as one line naming word;
// "" when nothing is.
func oneLineProblem(stderr, word string) string {
	msg := strings.TrimSpace(stderr)
	switch {
	case msg == "":
		return fmt.Sprintf("stderr is empty, want one line naming %q", word)
	case strings.Contains(msg, "\n"):
		return fmt.Sprintf("stderr has %d lines, want one:\n%s", strings.Count(msg, "\n")+1, msg)
	case !strings.Contains(strings.ToLower(msg), strings.ToLower(word)):
		return fmt.Sprintf("stderr %q does not mention %q", msg, word)
	}
	return ""
}
