package tunnel

import (
	"strings"
	"testing"
)

func TestParseFOUAdd(t *testing.T) {
	tests := []struct {
		in   string
		want FOUPort
	}{
		{"port 5555 ipproto 4", FOUPort{Port: 5555, IPProto: 4}},
		{"port 5555 ipproto 41", FOUPort{Port: 5555, IPProto: 41}},
		{"port 5555 ipproto 47", FOUPort{Port: 5555, IPProto: 47}},
		{"ipproto 47 port 5555", FOUPort{Port: 5555, IPProto: 47}},
		{"port 5555 ipproto ipencap", FOUPort{Port: 5555, IPProto: 4}},
		{"port 5555 ipproto IP-ENCAP", FOUPort{Port: 5555, IPProto: 4}},
		{"port 5555 ipproto ipv6", FOUPort{Port: 5555, IPProto: 41}},
		{"port 5555 ipproto IPv6", FOUPort{Port: 5555, IPProto: 41}},
		{"port 5555 ipproto gre", FOUPort{Port: 5555, IPProto: 47}},
		{"port 5555 ipproto GRE", FOUPort{Port: 5555, IPProto: 47}},
		{"port 5555 ipproto 0x2f", FOUPort{Port: 5555, IPProto: 47}},
		{"port 6080 gue", FOUPort{Port: 6080, GUE: true}},
		{"gue port 6080", FOUPort{Port: 6080, GUE: true}},
		{"port 6080 gue -6", FOUPort{Port: 6080, GUE: true, IPv6: true}},
		{"-6 port 5555 ipproto 41", FOUPort{Port: 5555, IPProto: 41, IPv6: true}},
		{"port 1 gue", FOUPort{Port: 1, GUE: true}},
		{"port 65535 gue", FOUPort{Port: 65535, GUE: true}},
		{"port 0x15b3 ipproto 4", FOUPort{Port: 5555, IPProto: 4}},
	}
	for _, tt := range tests {
		got, err := ParseFOUAdd(strings.Fields(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("ParseFOUAdd(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if err == nil {
			if err := got.Validate(); err != nil {
				t.Errorf("ParseFOUAdd(%q) gave an invalid port: %v", tt.in, err)
			}
		}
	}
}

func TestParseFOUDel(t *testing.T) {
	tests := []struct {
		in   string
		want FOUPort
	}{
		{"port 5555", FOUPort{Port: 5555}},
		{"port 5555 -6", FOUPort{Port: 5555, IPv6: true}},
		{"-6 port 1", FOUPort{Port: 1, IPv6: true}},
	}
	for _, tt := range tests {
		got, err := ParseFOUDel(strings.Fields(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("ParseFOUDel(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestParseFOUErrors checks that every error is one line, names the
// offending word, and says what to write instead.
func TestParseFOUErrors(t *testing.T) {
	add := func(a []string) error { _, err := ParseFOUAdd(a); return err }
	del := func(a []string) error { _, err := ParseFOUDel(a); return err }
	tests := []struct {
		fn   func([]string) error
		in   string
		want []string
	}{
		{add, "", []string{"fou add needs a port", "fou add port PORT ipproto 4|41|47", "gue"}},
		{add, "port", []string{`"port" needs a value`, "1..65535"}},
		{add, "port 0 gue", []string{`bad port "0"`, "cannot receive", "1..65535"}},
		{add, "port 65536 gue", []string{`bad port "65536"`, "out of range"}},
		{add, "port x gue", []string{`bad port "x"`, "not a number"}},
		{add, "port 05555 gue", []string{`bad port "05555"`, "octal", "write 5555"}},
		{add, "port 1 port 2 gue", []string{`duplicate keyword "port"`}},
		{add, "port 5555", []string{"fou add port 5555 needs what it carries", "ipproto 4|41|47", "gue"}},
		{add, "gue", []string{`missing "port PORT"`}},
		{add, "ipproto 4", []string{`missing "port PORT"`}},
		{add, "port 5555 ipproto", []string{`"ipproto" needs a protocol`, "4, 41 or 47"}},
		{add, "port 5555 ipproto 17", []string{"ipproto 17 is not supported", "4 (IPv4), 41 (IPv6) or 47 (GRE)"}},
		{add, "port 5555 ipproto 137", []string{"ipproto 137 is not supported"}},
		{add, "port 5555 ipproto udp", []string{`bad ipproto "udp"`, "not a number", "4, 41 or 47"}},
		{add, "port 5555 ipproto 256", []string{`bad ipproto "256"`, "out of range"}},
		{add, "port 5555 ipproto ipip", []string{`bad ipproto "ipip"`, "protocol 94", "ipproto 4"}},
		{add, "port 5555 ipproto 4 ipproto 41", []string{`duplicate keyword "ipproto"`}},
		{add, "port 5555 ipproto 4 gue", []string{`"gue" conflicts with "ipproto 4"`, "GUE header"}},
		{add, "port 5555 gue ipproto 47", []string{`"ipproto 47" conflicts with "gue"`}},
		{add, "port 5555 gue gue", []string{`duplicate keyword "gue"`}},
		{add, "port 5555 gue -6 -6", []string{`duplicate keyword "-6"`}},
		{add, "port 5555 gue -4", []string{`"-4" is not a keyword of fou add`, "default"}},
		{add, "port 5555 gue local 192.0.2.1", []string{`keyword "local" is not supported yet for fou add`}},
		{add, "port 5555 gue peer 192.0.2.2", []string{`keyword "peer" is not supported yet`}},
		{add, "port 5555 gue peer_port 1", []string{`keyword "peer_port" is not supported yet`}},
		{add, "port 5555 gue dev eth0", []string{`keyword "dev" is not supported yet`}},
		{add, "port 5555 gue foo", []string{`unknown keyword "foo" for fou add; expected one of: port ipproto gue -6`}},
		{add, "5555 gue", []string{`"5555" needs its keyword: fou add port 5555`}},
		{del, "", []string{"fou del needs a port", "fou del port PORT [-6]"}},
		{del, "5555", []string{`"5555" needs its keyword: fou del port 5555`}},
		{del, "port", []string{`"port" needs a value`}},
		{del, "port 0", []string{`bad port "0"`}},
		{del, "-6", []string{`missing "port PORT": fou del port PORT`}},
		{del, "port 5555 gue", []string{`"gue" is not needed by fou del`, "fou del port PORT"}},
		{del, "port 5555 ipproto 4", []string{`"ipproto" is not needed by fou del`}},
		{del, "port 5555 foo", []string{`unknown keyword "foo" for fou del; expected one of: port -6`}},
		{del, "port 5555 local 192.0.2.1", []string{`keyword "local" is not supported yet for fou del`}},
		{func(a []string) error { return ParseFOUShow(a) }, "port 5555", []string{`unexpected word "port" after fou show`}},
	}
	for _, tt := range tests {
		err := tt.fn(strings.Fields(tt.in))
		if err == nil {
			t.Errorf("parse %q: want an error", tt.in)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("parse %q: error is not one line: %q", tt.in, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parse %q error\n  %s\nmissing %q", tt.in, err, w)
			}
		}
	}
	if err := ParseFOUShow(nil); err != nil {
		t.Errorf("ParseFOUShow() = %v", err)
	}
}

func TestFOUPortRoundTrip(t *testing.T) {
	for _, p := range []FOUPort{
		{Port: 5555, IPProto: 4},
		{Port: 5555, IPProto: 41, IPv6: true},
		{Port: 1, IPProto: 47},
		{Port: 65535, GUE: true},
		{Port: 6080, GUE: true, IPv6: true},
	} {
		if err := p.Validate(); err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		got, err := ParseFOUAdd(p.Args())
		if err != nil || got != p {
			t.Errorf("ParseFOUAdd(%q) = %+v, %v; want %+v", p.Args(), got, err, p)
		}
	}
	if got := (FOUPort{Port: 6080, GUE: true, IPv6: true}).String(); got != "port 6080 gue -6" {
		t.Errorf("String() = %q", got)
	}
	if got := (FOUPort{Port: 5555, IPProto: 4}).String(); got != "port 5555 ipproto 4" {
		t.Errorf("String() = %q", got)
	}
}

func TestFOUPortValidate(t *testing.T) {
	for _, tt := range []struct {
		p    FOUPort
		want string
	}{
		{FOUPort{IPProto: 4}, `bad port "0"`},
		{FOUPort{Port: 1}, "ipproto 0 is not supported"},
		{FOUPort{Port: 1, IPProto: 17}, "ipproto 17 is not supported"},
		{FOUPort{Port: 1, GUE: true, IPProto: 4}, `"ipproto 4" conflicts with "gue"`},
	} {
		if err := tt.p.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.p, err, tt.want)
		}
	}
}

func TestSortFOUPorts(t *testing.T) {
	ports := []FOUPort{{Port: 9, GUE: true, IPv6: true}, {Port: 7, GUE: true}, {Port: 2, IPProto: 4, IPv6: true}, {Port: 3, IPProto: 4}}
	SortFOUPorts(ports)
	var got []string
	for _, p := range ports {
		got = append(got, p.String())
	}
	want := "port 3 ipproto 4,port 7 gue,port 2 ipproto 4 -6,port 9 gue -6"
	if strings.Join(got, ",") != want {
		t.Errorf("SortFOUPorts = %s, want %s", strings.Join(got, ","), want)
	}
}

func FuzzParseFOUAdd(f *testing.F) {
	f.Add("port 5555 ipproto 4")
	f.Add("port 6080 gue -6")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParseFOUAdd(strings.Fields(in))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q: %q", in, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseFOUAdd(%q) accepted an invalid port: %v", in, err)
		}
		if again, err := ParseFOUAdd(p.Args()); err != nil || again != p {
			t.Fatalf("round trip of %q through %q: %+v, %v", in, p.Args(), again, err)
		}
	})
}
