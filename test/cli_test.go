package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/xtunnel/xtunnel/lab"
)

// TestLinkAddErrors feeds `link add` wrong input as root: each must exit
// non-zero with one line on stderr naming the problem, and leave no netdev
// and no tunnel behind.
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
	devsBefore, showBefore := netdevs(), linkShow()

	L, R := lab.UnderlayA, lab.UnderlayB
	for _, tc := range []struct {
		name    string
		args    []string
		mention string // the message must name this
	}{
		{"unknown keyword", []string{"name", "xt1", "type", "gre", "local", L, "remote", R, "frobnicate", "7"}, "frobnicate"},
		{"unknown type", []string{"name", "xt1", "type", "bogus", "local", L, "remote", R}, "bogus"},
		{"missing remote", []string{"name", "xt1", "type", "gre", "local", L}, "remote"},
		{"bad address", []string{"name", "xt1", "type", "gre", "local", L, "remote", "198.51.100.256"}, "198.51.100.256"},
		{"duplicate tunnel name", []string{"name", "xt0", "type", "gre", "local", L, "remote", R, "key", "2"}, "xt0"},
		{"name of another netdev", []string{"name", lab.DevA, "type", "ipip", "local", L, "remote", R}, lab.DevA},
		{"unknown dev", []string{"name", "xt1", "type", "gre", "local", L, "remote", R, "dev", "nosuchdev0"}, "nosuchdev0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := x.Run(ctx, ns, append([]string{"link", "add"}, tc.args...)...)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("link add %s: want a non-zero exit, got %v", strings.Join(tc.args, " "), err)
			}
			checkOneLine(t, stderr, tc.mention)
			if got := netdevs(); !slices.Equal(got, devsBefore) {
				t.Errorf("netdevs changed: before %v, after %v", devsBefore, got)
			}
			if got := linkShow(); got != showBefore {
				t.Errorf("link show changed:\nbefore:\n%s\nafter:\n%s", showBefore, got)
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
	msg := strings.TrimSpace(stderr)
	switch {
	case msg == "":
		t.Errorf("stderr is empty, want one line naming %q", word)
	case strings.Contains(msg, "\n"):
		t.Errorf("stderr has %d lines, want one:\n%s", strings.Count(msg, "\n")+1, msg)
	case !strings.Contains(strings.ToLower(msg), strings.ToLower(word)):
		t.Errorf("stderr %q does not mention %q", msg, word)
	default:
		t.Logf("stderr: %s", msg)
	}
}
