// Package e2e runs xtunnel end to end in network namespaces built by
// package lab: two hosts joined by a veth underlay, a client behind each.
// The tests need root and the ip, ping, ss and iperf3 tools; they skip with
// the reason otherwise. TestMain builds ./cmd/xtunnel; XTUNNEL_BIN=PATH
// tests a prebuilt binary instead.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xtunnel/xtunnel/lab"
)

var (
	// rootCtx is cancelled on SIGINT/SIGTERM so that running commands
	// die, tests fail fast and their cleanups still run.
	rootCtx context.Context

	xtunnelBin string // built by TestMain
	buildErr   error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rootCtx = ctx

	tmp, err := os.MkdirTemp("", "xtunnel-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// The not-root test runs the binary as nobody: it must be able to
	// reach and execute it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if bin := os.Getenv("XTUNNEL_BIN"); bin != "" {
		// A prebuilt binary, e.g. a release candidate.
		xtunnelBin, buildErr = filepath.Abs(bin)
	} else {
		xtunnelBin = filepath.Join(tmp, "xtunnel")
		buildErr = buildXtunnel(ctx, xtunnelBin)
	}

	code := m.Run()
	if err := lab.CleanupAll(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cleanup:", err)
		code = 1
	}
	return code
}

// buildXtunnel runs `go build -o out ./cmd/xtunnel` at the module root.
func buildXtunnel(ctx context.Context, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/xtunnel")
	cmd.Dir = ".." // the module root; go test runs in the package dir
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./cmd/xtunnel: %w: %s", err, strings.TrimSpace(string(b)))
	}
	return nil
}

// testCtx is a context that ends with the test or on SIGINT/SIGTERM.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(rootCtx, 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// requireLab skips unless the lab can run here: root, ip, ping, and the
// given extra tools.
func requireLab(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces, veth and bpffs (CI runs this as root)")
	}
	for _, tool := range append([]string{"ip", "ping", "ethtool"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s in PATH (make deps installs it)", tool)
		}
	}
}

// requireXtunnel fails the test when the xtunnel binary did not build.
func requireXtunnel(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// newLab builds a lab for one test and removes it when the test ends.
func newLab(t *testing.T, ctx context.Context, tag string) *lab.Lab {
	t.Helper()
	l, err := lab.New(ctx, lab.Prefix(tag))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Cleanup(); err != nil {
			t.Errorf("lab cleanup: %v", err)
		}
	})
	return l
}
