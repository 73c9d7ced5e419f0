// Command xtunnel drives the xtunnel dataplane with iproute2's grammar:
// every `ip link add ... type gre|ipip|sit|ip6tnl|ip6gre|gretap|
// ip6gretap|erspan|ip6erspan|vxlan|geneve` and `ip fou` recipe works with
// ip replaced by xtunnel, `bridge fdb` for vxlan and geneve peers with
// bridge replaced by xtunnel, and `xtunnel mirror` does what a tc
// matchall mirred mirror into an erspan link does. Each call is a
// short-lived process that edits pinned BPF state.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(report(err, os.Stderr))
}

// report prints err as `xtunnel: ...` and returns the exit status: 0 for
// success, 2 for a usage error, 1 for anything else.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	// One line, even for errors joined with errors.Join.
	if msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; "); msg != "" {
		fmt.Fprintf(stderr, "xtunnel: %s\n", msg)
	}
	return code
}

// exitError is an error with its own exit status. An empty message means
// the problem has already been explained on stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErrorf reports bad command-line input: exit status 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}
