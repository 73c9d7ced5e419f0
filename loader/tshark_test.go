package loader_test

// A second opinion on the wire formats: the frames the programs send
// for vxlan, geneve with options and erspan type II and III are written
// to a pcap file and dissected by tshark (Wireshark), whose fields must
// say what the tunnels were configured with.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// tsharkFields runs tshark on the frames and returns, per frame, the
// fields asked for: repeated values of one field joined with ";".
func tsharkFields(t *testing.T, frames [][]byte, fields ...string) [][]string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (make deps installs it; Debian: apt-get install tshark)")
	}
	path := filepath.Join(t.TempDir(), "frames.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for i, b := range frames {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	args := []string{"-r", path, "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=,", "-E", "aggregator=;", "-E", "occurrence=a"}
	for _, field := range fields {
		args = append(args, "-e", field)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user preferences
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		t.Fatal(err)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		rows = append(rows, strings.Split(line, ","))
	}
	if len(rows) != len(frames) {
		t.Fatalf("tshark gave %d lines for %d frames:\n%s", len(rows), len(frames), out)
	}
	return rows
}

// fv is a tshark field and the value it must have; repeated fields
// (outer and inner headers, options) give their values in order, ";"
// between them.
type fv struct{ field, want string }

func TestTshark(t *testing.T) {
	requireRootForBPF(t)
	nh := newNextHop(t, true).withIPv6(t) // tagged frames leave through the FIB
	e := ethInner{in: inner{tos: 0xa0}}   // IP precedence 5: ERSPAN class of service 5
	tagged := ethInner{vlan: 0x6123, in: inner{v6: true}}
	dec := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	session, index, hwid := dec(testSession), dec(testIndex), dec(testHWID)
	class := func(o tunnel.GeneveOpt) string { return fmt.Sprintf("0x%04x", o.Class) }
	typ := func(o tunnel.GeneveOpt) string { return fmt.Sprintf("0x%02x", o.Type) }
	optLen := func(o tunnel.GeneveOpt) int { return 4 + len(o.Data) }
	ipDst := "198.51.100.2;10.20.0.5" // outer, inner
	cases := []struct {
		name   string
		tun    maps.Tunnel
		e      ethInner
		ip     bool // geneve innerprotoinherit: e's IP packet
		fields []fv
	}{
		{name: "vxlan", tun: vxlanTunnel(false), e: e, fields: []fv{
			{"vxlan.flag_i", "1"}, {"vxlan.vni", dec(testVNI)}, {"udp.dstport", "4789"}, {"udp.checksum", "0x0000"},
			{"eth.dst", "02:00:00:00:01:01;" + innerDstMAC.String()}, {"ip.dst", ipDst},
		}},
		{name: "vxlan6 vlan tagged", tun: vxlanTunnel(true), e: tagged, fields: []fv{
			{"vxlan.vni", dec(testVNI)}, {"udp.checksum.status", "1;1"}, // good: outer, inner
			{"vlan.id", "291"}, {"vlan.priority", "3"}, {"ipv6.dst", "2001:db8::2;fd00:20::5"},
		}},
		{name: "geneve options", tun: geneveTunnel(t, false, optA, optB), e: e, fields: []fv{
			{"geneve.version", "0"}, {"geneve.vni", fmt.Sprintf("%#x", testVNI)}, {"geneve.flags.oam", "0"},
			{"geneve.flags.critical", "0"}, {"geneve.proto_type", "0x6558"},
			{"geneve.option.class", class(optA) + ";" + class(optB)}, {"geneve.option.type", typ(optA) + ";" + typ(optB)},
			// The option area's length, then each option's, in bytes.
			{"geneve.option.length", fmt.Sprintf("%d;%d;%d", optLen(optA)+optLen(optB), optLen(optA), optLen(optB))},
			{"geneve.option.unknown.data", hex.EncodeToString(optA.Data) + ";" + hex.EncodeToString(optB.Data)},
			{"ip.dst", ipDst},
		}},
		{name: "geneve critical option", tun: geneveTunnel(t, false, optCrit), e: e, fields: []fv{
			{"geneve.flags.critical", "1"}, {"geneve.option.class", class(optCrit)}, {"geneve.option.type", typ(optCrit)},
			{"geneve.option.type.critical", "1"},
		}},
		{name: "geneve innerprotoinherit", tun: inheritTunnel(t, false, optA), e: e, ip: true, fields: []fv{
			{"geneve.proto_type", "0x0800"}, {"geneve.option.class", class(optA)}, {"ip.dst", ipDst},
		}},
		{name: "erspan v1", tun: erspanTunnel(false, 1), e: e, fields: []fv{
			{"gre.proto", "0x88be"}, {"gre.flags.sequence_number", "1"}, {"gre.flags.key", "0"}, {"gre.sequence_number", "0"},
			{"erspan.version", "1"}, {"erspan.spanid", session}, {"erspan.index", index}, {"erspan.cos", "5"},
			{"erspan.encap", "0"}, {"erspan.truncated", "0"}, {"erspan.vlan", "0"}, {"ip.dst", ipDst},
		}},
		{name: "erspan v1 vlan tagged", tun: erspanTunnel(false, 1), e: tagged, fields: []fv{
			{"erspan.version", "1"}, {"erspan.spanid", session}, {"erspan.vlan", "291"}, {"erspan.cos", "3"},
			{"erspan.encap", "3"}, {"vlan.id", "291"},
		}},
		{name: "erspan v2", tun: erspanTunnel(false, 2), e: e, fields: []fv{
			{"gre.proto", "0x22eb"}, {"gre.flags.sequence_number", "1"}, {"erspan.version", "2"}, {"erspan.spanid", session},
			{"erspan.direction", "1"}, {"erspan.hw", hwid}, {"erspan.gra", "0"}, {"erspan.cos", "5"}, {"erspan.bso", "0"},
			{"erspan.truncated", "0"}, {"erspan.sgt", "0"}, {"erspan.p", "0"}, {"erspan.ft", "0"}, {"erspan.o", "0"},
			{"ip.dst", ipDst},
		}},
		{name: "erspan v2 ingress", tun: with(erspanTunnel(false, 2), func(tun *maps.Tunnel) { tun.ERSPANDir = tunnel.DirIngress }),
			e: tagged, fields: []fv{{"erspan.direction", "0"}, {"erspan.hw", hwid}, {"erspan.vlan", "291"}, {"erspan.cos", "3"}}},
		{name: "ip6erspan v2", tun: erspanTunnel(true, 2), e: e, fields: []fv{
			{"erspan.version", "2"}, {"erspan.spanid", session}, {"erspan.direction", "1"}, {"erspan.hw", hwid},
			{"ipv6.dst", "2001:db8::2"}, {"ip.dst", "10.20.0.5"},
		}},
	}
	var frames [][]byte
	for _, c := range cases {
		t.Run("send "+c.name, func(t *testing.T) {
			frames = append(frames, nh.checkEthEncap(t, ethCase{tun: c.tun, e: c.e, ip: c.ip}))
		})
	}
	if len(frames) != len(cases) {
		t.Fatalf("%d of %d frames sent", len(frames), len(cases))
	}
	// One tshark run for all frames, every field asked of each.
	var all []string
	col := map[string]int{}
	for _, c := range cases {
		for _, f := range c.fields {
			if _, ok := col[f.field]; !ok {
				col[f.field] = len(all)
				all = append(all, f.field)
			}
		}
	}
	rows := tsharkFields(t, frames, all...)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row := rows[i]
			for _, f := range c.fields {
				var got string
				if j := col[f.field]; j < len(row) {
					got = row[j]
				}
				if got != f.want {
					t.Errorf("%s = %q, want %q", f.field, got, f.want)
				}
			}
			if t.Failed() {
				t.Logf("frame %x", frames[i])
			}
		})
	}
}
