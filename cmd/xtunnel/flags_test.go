package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/xtunnel/xtunnel/dataplane"
)

func TestXDPMode(t *testing.T) {
	for _, s := range []string{"auto", "native", "generic"} {
		var m xdpMode
		if err := m.Set(s); err != nil || m.String() != s {
			t.Errorf("xdpMode.Set(%q) = %v, value %q", s, err, m)
		}
	}
	for _, s := range []string{"", "drv", "skb", "Native", "native ", "tcx"} {
		m := xdpMode("auto")
		err := m.Set(s)
		if err == nil {
			t.Errorf("xdpMode.Set(%q) accepted it", s)
			continue
		}
		for _, want := range []string{`"` + s + `"`, "XDP mode", "auto, native or generic"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("xdpMode.Set(%q) = %q, want it to contain %q", s, err, want)
			}
		}
		if m != "auto" {
			t.Errorf("xdpMode.Set(%q) changed the value to %q", s, m)
		}
	}
}

func TestTCMode(t *testing.T) {
	for _, s := range []string{"auto", "tcx", "clsact"} {
		var m tcMode
		if err := m.Set(s); err != nil || m.String() != s {
			t.Errorf("tcMode.Set(%q) = %v, value %q", s, err, m)
		}
	}
	for _, s := range []string{"", "ingress", "TCX", "native"} {
		m := tcMode("auto")
		err := m.Set(s)
		if err == nil {
			t.Errorf("tcMode.Set(%q) accepted it", s)
			continue
		}
		for _, want := range []string{`"` + s + `"`, "TC mode", "auto, tcx or clsact"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("tcMode.Set(%q) = %q, want it to contain %q", s, err, want)
			}
		}
		if m != "auto" {
			t.Errorf("tcMode.Set(%q) changed the value to %q", s, m)
		}
	}
}

// The mode types are pflag.Values.
var (
	_ pflag.Value = (*xdpMode)(nil)
	_ pflag.Value = (*tcMode)(nil)
)

func TestParseFlags(t *testing.T) {
	defaults := Flags{BPFFS: dataplane.DefaultBPFFS, XDPMode: "auto", TCMode: "auto"}
	with := func(edit func(*Flags)) Flags {
		f := defaults
		edit(&f)
		return f
	}
	tests := []struct {
		args  string
		flags Flags
		words string
	}{
		{"link show", defaults, "link show"},
		{"--bpffs /sys/fs/bpf/t --json link show", with(func(f *Flags) { f.BPFFS, f.JSON = "/sys/fs/bpf/t", true }), "link show"},
		{"link show --json", with(func(f *Flags) { f.JSON = true }), "link show"},
		{"link --json show gre1", with(func(f *Flags) { f.JSON = true }), "link show gre1"},
		{"--bpffs=/x stats", with(func(f *Flags) { f.BPFFS = "/x" }), "stats"},
		{"--xdp-mode generic attach eth0", with(func(f *Flags) { f.XDPMode = "generic" }), "attach eth0"},
		{"attach eth0 --xdp-mode=native --tc-mode clsact", with(func(f *Flags) { f.XDPMode, f.TCMode = "native", "clsact" }), "attach eth0"},
		{"link add gre1 -v type gre local 192.0.2.1 remote 192.0.2.2 key 1", with(func(f *Flags) { f.Verbose = true }),
			"link add gre1 type gre local 192.0.2.1 remote 192.0.2.2 key 1"},
		{"--verbose stats", with(func(f *Flags) { f.Verbose = true }), "stats"},
		{"-vh", with(func(f *Flags) { f.Verbose, f.Help = true, true }), ""},
		{"--help link", with(func(f *Flags) { f.Help = true }), "link"},
		{"--version", with(func(f *Flags) { f.Version = true }), ""},
		{"link show -- --json", defaults, "link show --json"},
		{"fou add port 5555 gue -6", with(func(f *Flags) { f.IPv6 = true }), "fou add port 5555 gue"},
		{"--ipv6 fou show", with(func(f *Flags) { f.IPv6 = true }), "fou show"},
		{"mirror add dev eth1 both to erspan1 --sample 1/10", with(func(f *Flags) { f.Sample = "1/10" }), "mirror add dev eth1 both to erspan1"},
		{"--sample=5 mirror add dev eth1 both to erspan1", with(func(f *Flags) { f.Sample = "5" }), "mirror add dev eth1 both to erspan1"},
		{"mirror add dev eth1 both to erspan1 sample 1/10", defaults, "mirror add dev eth1 both to erspan1 sample 1/10"},
		{"mirror add -- dev eth1 both to erspan1 --sample 1/10", defaults, "mirror add dev eth1 both to erspan1 --sample 1/10"},
		{"fdb add 52:54:00:12:34:56 dst 2001:db8::2 dev vx0 --json", with(func(f *Flags) { f.JSON = true }),
			"fdb add 52:54:00:12:34:56 dst 2001:db8::2 dev vx0"},
		{"-batch routes.txt", with(func(f *Flags) { f.Batch = "routes.txt" }), ""},
		{"--batch routes.txt -force", with(func(f *Flags) { f.Batch, f.Force = "routes.txt", true }), ""},
		{"-force -batch=routes.txt", with(func(f *Flags) { f.Batch, f.Force = "routes.txt", true }), ""},
		{"--force --batch=-", with(func(f *Flags) { f.Batch, f.Force = "-", true }), ""},
		{"-b - --json", with(func(f *Flags) { f.Batch, f.JSON = "-", true }), ""},
		{"-v -batch routes.txt", with(func(f *Flags) { f.Batch, f.Verbose = "routes.txt", true }), ""},
		{"link show -- -batch x", defaults, "link show -batch x"},
		{"--max-tunnels 1 --max-routes=16777216 attach eth0", with(func(f *Flags) { f.MaxTunnels, f.MaxRoutes = 1, 1<<24 }), "attach eth0"},
		{"attach eth0 --max-tunnels=1048576", with(func(f *Flags) { f.MaxTunnels = 1 << 20 }), "attach eth0"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			var f Flags
			_, words, err := parseFlags(&f, strings.Fields(tt.args))
			if err != nil {
				t.Fatalf("parseFlags: %v", err)
			}
			if f != tt.flags {
				t.Errorf("flags\n got %+v\nwant %+v", f, tt.flags)
			}
			if want := strings.Fields(tt.words); !reflect.DeepEqual(words, want) && len(words)+len(want) > 0 {
				t.Errorf("words = %q, want %q", words, want)
			}
			if f.options() != (dataplane.Options{BPFFS: tt.flags.BPFFS, XDPMode: string(tt.flags.XDPMode), TCMode: string(tt.flags.TCMode),
				MaxTunnels: tt.flags.MaxTunnels, MaxRoutes: tt.flags.MaxRoutes}) {
				t.Errorf("options() = %+v", f.options())
			}
		})
	}
}

func TestParseFlagsErrors(t *testing.T) {
	tests := []struct {
		args string
		want []string
	}{
		{"--xdp-mode drv attach eth0", []string{"--xdp-mode", `"drv"`, "auto, native or generic"}},
		{"attach eth0 --tc-mode=ingress", []string{"--tc-mode", `"ingress"`, "auto, tcx or clsact"}},
		{"--jsn link show", []string{"--jsn", "xtunnel help"}},
		{"link show -j", []string{"'j'", "xtunnel help"}},
		{"link show --bpffs", []string{"--bpffs", "needs an argument"}},
		{"--json=maybe link show", []string{"--json", "maybe"}},
		{"mirror add dev eth1 both to erspan1 --sample", []string{"--sample", "needs an argument"}},
		{"mirror add dev eth1 both to erspan1 --sampel 2", []string{"--sampel", "xtunnel help"}},
		{"--max-tunnels 0 attach eth0", []string{"--max-tunnels", `"0" is out of range; want 1..1048576`}},
		{"--max-tunnels 1048577 attach eth0", []string{"--max-tunnels", `"1048577" is out of range; want 1..1048576`}},
		{"--max-routes=16777217 attach eth0", []string{"--max-routes", `"16777217" is out of range; want 1..16777216`}},
		{"--max-routes 1M attach eth0", []string{"--max-routes", `"1M" is not a number; want 1..16777216`}},
		{"--max-routes -5 attach eth0", []string{"--max-routes", `"-5" is not a number`}},
		{"--max-routes 99999999999999999999999 attach eth0", []string{"--max-routes", "out of range"}},
		{"--max-routes", []string{"--max-routes", "needs an argument"}},
		{"--batch", []string{"--batch", "needs an argument"}},
		{"-forc", []string{"xtunnel help"}},
	}
	for _, tt := range tests {
		var f Flags
		_, _, err := parseFlags(&f, strings.Fields(tt.args))
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("parseFlags(%q) = %v, want a usage error", tt.args, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parseFlags(%q) = %q, want it to contain %q", tt.args, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("parseFlags(%q): error is not one line: %q", tt.args, err)
		}
	}
}

func TestCountFlag(t *testing.T) {
	var n int
	c := &countFlag{p: &n, max: 100}
	if c.String() != "0" || (&countFlag{}).String() != "0" {
		t.Errorf("String() of an unset countFlag = %q", c.String())
	}
	for _, s := range []string{"1", "100", "42"} {
		if err := c.Set(s); err != nil || c.String() != s {
			t.Errorf("Set(%q) = %v, value %q", s, err, c.String())
		}
	}
	for s, want := range map[string]string{
		"0": `"0" is out of range; want 1..100`, "101": `"101" is out of range`, "": `"" is not a number`,
		"x": `"x" is not a number`, "-1": `"-1" is not a number`, "0x10": `"0x10" is not a number`,
		"1e3": "not a number", "18446744073709551616": "out of range",
	} {
		n = 7
		if err := c.Set(s); err == nil || !strings.Contains(err.Error(), want) || n != 7 {
			t.Errorf("Set(%q) = %v (value %d), want an error with %q", s, err, n, want)
		}
	}
}

var _ pflag.Value = (*countFlag)(nil)

func TestSingleDash(t *testing.T) {
	for in, want := range map[string]string{
		"-batch f -force":            "--batch f --force",
		"-batch=f":                   "--batch=f",
		"--batch f --force":          "--batch f --force",
		"-b f":                       "-b f",
		"link show -- -batch -force": "link show -- -batch -force",
		"-batchx -forced -forcex=1":  "-batchx -forced -forcex=1",
		"-force=true -batch - -v":    "--force=true --batch - -v",
		"":                           "",
	} {
		args := strings.Fields(in)
		orig := append([]string(nil), args...)
		if got := strings.Join(singleDash(args), " "); got != want {
			t.Errorf("singleDash(%q) = %q, want %q", in, got, want)
		}
		if !reflect.DeepEqual(args, orig) && len(args) > 0 {
			t.Errorf("singleDash(%q) changed its argument", in)
		}
	}
}
