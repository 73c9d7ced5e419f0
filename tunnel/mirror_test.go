package tunnel

import (
	"strings"
	"testing"
)

func TestParseMirrorAdd(t *testing.T) {
	tests := []struct {
		in   string
		want Mirror
	}{
		{"dev eth1 ingress to erspan1", Mirror{Dev: "eth1", Ingress: true, To: "erspan1", Sample: 1}},
		{"dev eth1 egress to erspan1", Mirror{Dev: "eth1", Egress: true, To: "erspan1", Sample: 1}},
		{"dev eth1 both to erspan1", Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 1}},
		{"to erspan1 both dev eth1", Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 1}},
		{"dev eth1 both to erspan1 sample 1/10", Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 10}},
		{"dev eth1 both to erspan1 sample 10", Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 10}},
		{"dev eth1 both to erspan1 --sample 1/10", Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 10}},
		{"dev eth1 both to erspan1 --sample=1/10", Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 10}},
		{"dev eth1 both to erspan1 sample 1/1", Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 1}},
		{"dev eth1 ingress to erspan1 sample 1/65535", Mirror{Dev: "eth1", Ingress: true, To: "erspan1", Sample: 65535}},
		{"dev eth1 ingress to erspan1 sample 0x10", Mirror{Dev: "eth1", Ingress: true, To: "erspan1", Sample: 16}},
	}
	for _, tt := range tests {
		got, err := ParseMirrorAdd(strings.Fields(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("ParseMirrorAdd(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		if err := got.Validate(); err != nil {
			t.Errorf("ParseMirrorAdd(%q) gave an invalid mirror: %v", tt.in, err)
		}
		again, err := ParseMirrorAdd(got.Args())
		if err != nil || again != got {
			t.Errorf("round trip of %q through %q: %+v, %v", tt.in, got.Args(), again, err)
		}
	}
	m := Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 10}
	if got := m.String(); got != "dev eth1 both to erspan1 sample 1/10" {
		t.Errorf("String() = %q", got)
	}
	if got := (Mirror{Dev: "eth1", Egress: true, To: "erspan1", Sample: 1}).String(); got != "dev eth1 egress to erspan1" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseMirrorDel(t *testing.T) {
	tests := []struct {
		in   string
		want Mirror
	}{
		{"dev eth1", Mirror{Dev: "eth1", Ingress: true, Egress: true}},
		{"dev eth1 both", Mirror{Dev: "eth1", Ingress: true, Egress: true}},
		{"dev eth1 ingress", Mirror{Dev: "eth1", Ingress: true}},
		{"egress dev eth1", Mirror{Dev: "eth1", Egress: true}},
	}
	for _, tt := range tests {
		got, err := ParseMirrorDel(strings.Fields(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("ParseMirrorDel(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseMirrorShow(t *testing.T) {
	for in, want := range map[string]string{"": "", "dev eth1": "eth1", "eth1": "eth1"} {
		if got, err := ParseMirrorShow(strings.Fields(in)); err != nil || got != want {
			t.Errorf("ParseMirrorShow(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMirrorShow([]string{"dev"}); err == nil || !strings.Contains(err.Error(), "mirror show dev NAME") {
		t.Errorf("ParseMirrorShow(dev) = %v", err)
	}
}

// TestParseMirrorErrors checks that every error is one line, names the
// offending word, and says what to write instead.
func TestParseMirrorErrors(t *testing.T) {
	add := func(a []string) error { _, err := ParseMirrorAdd(a); return err }
	del := func(a []string) error { _, err := ParseMirrorDel(a); return err }
	tests := []struct {
		fn   func([]string) error
		in   string
		want []string
	}{
		{add, "", []string{"mirror add needs a mirror", "mirror add dev MON ingress|egress|both to NAME"}},
		{del, "", []string{"mirror del needs a device", "mirror del dev MON"}},
		{add, "ingress to erspan1", []string{`missing "dev MON"`}},
		{add, "dev eth1 to erspan1", []string{"mirror add dev eth1 needs a direction: ingress, egress or both"}},
		{add, "dev eth1 both", []string{`missing "to NAME"`, "mirror add dev eth1 both to NAME"}},
		{add, "dev eth1 both to eth1", []string{"mirroring eth1 into itself would loop"}},
		{add, "eth1 both to erspan1", []string{`"eth1" needs its keyword: mirror add dev eth1`}},
		{add, "dev eth1 both to erspan1 extra", []string{`unknown keyword "extra" for mirror add`, "dev ingress egress both to sample"}},
		{add, "dev eth1 ingress egress to erspan1", []string{`"egress" conflicts with "ingress"`, "one direction"}},
		{add, "dev eth1 both both to erspan1", []string{`duplicate keyword "both"`}},
		{add, "dev eth1 dev eth2 both to erspan1", []string{`duplicate keyword "dev"`}},
		{add, "dev eth1 both to erspan1 to erspan2", []string{`duplicate keyword "to"`}},
		{add, "dev eth1 both to erspan1 sample 1/2 --sample 1/3", []string{`duplicate keyword "--sample" (same as "sample")`}},
		{add, "dev", []string{`"dev" needs the monitored netdev`}},
		{add, "dev eth1 both to", []string{`"to" needs the erspan tunnel`}},
		{add, "dev eth1 both to erspan1 sample", []string{`"sample" needs a rate`, "1/N"}},
		{add, "dev eth1 both to erspan1 sample 0", []string{`bad sample "0"`, "one frame in 0", "1..65535"}},
		{add, "dev eth1 both to erspan1 sample 1/0", []string{`bad sample "1/0"`}},
		{add, "dev eth1 both to erspan1 sample 2/5", []string{`bad sample "2/5": want 1/N`}},
		{add, "dev eth1 both to erspan1 sample 1/65536", []string{`bad sample "1/65536"`, "out of range", "1..65535"}},
		{add, "dev eth1 both to erspan1 sample x", []string{`bad sample "x"`, "not a number"}},
		{add, "dev eth1 both to erspan1 --sample=0", []string{`bad --sample "0"`}},
		{add, "dev a/b both to erspan1", []string{`bad dev "a/b"`}},
		{add, "dev eth1 both to abcdefghijklmnop", []string{`bad to "abcdefghijklmnop"`, "at most 15"}},
		{add, "dev eth1 both to erspan1 action mirred", []string{`"action" is tc's word`}},
		{add, "dev eth1 both to erspan1 matchall", []string{`"matchall" is tc's word`, "mirror add dev MON"}},
		{del, "dev eth1 to erspan1", []string{`"to" is not needed by mirror del`}},
		{del, "dev eth1 sample 1/2", []string{`"sample" is not needed by mirror del`}},
		{del, "dev eth1 --sample=1/2", []string{`"--sample" is not needed by mirror del`}},
		{del, "ingress", []string{`missing "dev MON"`, "mirror del dev MON"}},
		{del, "dev eth1 ingress egress", []string{`"egress" conflicts with "ingress"`}},
		{del, "eth1", []string{`"eth1" needs its keyword: mirror del dev eth1`}},
	}
	for _, tt := range tests {
		err := tt.fn(strings.Fields(tt.in))
		if err == nil {
			t.Errorf("parse %q: no error, want one with %q", tt.in, tt.want)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("parse %q: error is not one line: %q", tt.in, msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("parse %q error\n  %s\nmissing %q", tt.in, msg, w)
			}
		}
	}
}

func TestMirrorValidate(t *testing.T) {
	good := Mirror{Dev: "eth1", Ingress: true, To: "erspan1", Sample: 1}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(%+v): %v", good, err)
	}
	for _, tt := range []struct {
		m    Mirror
		want string
	}{
		{Mirror{Dev: "eth1", To: "erspan1", Sample: 1}, "copies nothing"},
		{Mirror{Dev: "eth1", Ingress: true, To: "erspan1"}, `bad sample "0"`},
		{Mirror{Dev: "eth1", Ingress: true, To: "erspan1", Sample: 65536}, `bad sample "65536"`},
		{Mirror{Dev: "eth1", Ingress: true, To: "eth1", Sample: 1}, "mirroring eth1 into itself would loop"},
		{Mirror{Dev: "", Ingress: true, To: "erspan1", Sample: 1}, `bad dev ""`},
		{Mirror{Dev: "eth1", Ingress: true, To: "", Sample: 1}, `bad to ""`},
	} {
		if err := tt.m.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want an error with %q", tt.m, err, tt.want)
		}
	}
	for m, want := range map[Mirror]string{
		{Ingress: true}: "ingress", {Egress: true}: "egress", {Ingress: true, Egress: true}: "both", {}: "",
	} {
		if got := m.Direction(); got != want {
			t.Errorf("%+v.Direction() = %q, want %q", m, got, want)
		}
	}
}

func TestMirrorUsage(t *testing.T) {
	for _, w := range []string{"mirror add dev MON ingress|egress|both to NAME [sample 1/N]", "mirror del dev MON [ingress|egress|both]", "mirror show [dev MON]"} {
		if !strings.Contains(MirrorUsage, w) {
			t.Errorf("MirrorUsage lacks %q", w)
		}
	}
}
