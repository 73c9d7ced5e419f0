package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/xtunnel/xtunnel/tunnel"
)

const usageText = `Usage: xtunnel [OPTIONS] COMMAND [ARGS]
       xtunnel [OPTIONS] -batch FILE [-force]

Commands (a unique prefix is enough, as with ip: xtunnel l sh):
  attach IFNAME [gateway]  load XDP on a netdev (gateway: route and forward in XDP)
  detach IFNAME        unload them, with the tunnels that use IFNAME
  link add ...         create a tunnel, point-to-point or external (one
                       netdev for many peers); see: xtunnel link help
  link del NAME        delete a tunnel (also: delete)
  link show [NAME]     list tunnels and attached netdevs (also: list, ls)
  fou add port P ...   open a FOU or GUE receive port; see: xtunnel fou help
  fou del port P [-6]  close it (also: delete)
  fou show [-6]        list the FOU and GUE ports (also: list, ls)
  fdb add MAC dst ADDR dev NAME
                       send frames for MAC through the vxlan or geneve
                       tunnel NAME to the peer ADDR (also: append);
                       see: xtunnel fdb help
  fdb del MAC dev NAME [dst ADDR]
                       delete forwarding entries (also: delete)
  fdb show [dev NAME]  list them, learned ones with their age (also: list, ls)
  mirror add dev MON ingress|egress|both to NAME [sample 1/N]
                       copy MON's frames into the erspan tunnel NAME;
                       see: xtunnel mirror help
  mirror del dev MON [ingress|egress|both]
                       stop copying them (also: delete)
  mirror show [dev MON]
                       list mirrors and what they copied (also: list, ls)
  route add PREFIX dev NAME
                       send PREFIX into the point-to-point tunnel NAME
  route add PREFIX encap ip|ip6 [id KEY] dst ADDR dev NAME
                       send PREFIX to the peer ADDR of the external
                       tunnel NAME; see: xtunnel route help
  route del PREFIX [dev NAME]
                       delete a route (also: delete)
  route show [dev NAME]
                       list routes (also: list, ls)
  stats [NAME]         packet counters per tunnel, and why packets were
                       dropped or passed to the kernel
  features             what the running kernel offers xtunnel
  bench [SECTION...]   the performance lab: one table, bench-results.json/.png
  help [COMMAND]       this text, or help on one command

attach, detach and the add and del of link, fou, fdb, mirror and route
need root.

-batch FILE runs the commands in FILE (- for stdin), one a line as it would
follow xtunnel, as ip -batch does: blank lines and # comments are skipped,
double or single quotes group words, a backslash escapes the next character
or, at the end of a line, joins the next one. The options given on the
command line apply to every line; a line cannot give its own. The dataplane
is opened once, and consecutive route add (or route del) lines go to it as
one batch, so a file of a million routes loads fast. It stops at the first
failing line (batch FILE:LINE: ...), with the lines before it done (and,
for route del, the other routes of its run deleted as well), unless -force:
then it goes on, reports each failing line and exits non-zero at the end. -batch and -force may also
be written --batch and --force.

--max-tunnels and --max-routes size the tables when the state is created,
by the first attach (or fou add) in the network namespace; give them to
that command. Later they change nothing: the state is dropped, and can be
sized again, once every netdev is detached and every fou port closed.
`

const linkUsageText = `Usage: xtunnel link add [name] NAME type TYPE [local ADDR] [remote ADDR] [OPTIONS]
       xtunnel link add [name] NAME type gre|ip6gre|ipip|sit|ip6tnl external [local ADDR] [OPTIONS]
       xtunnel link del NAME
       xtunnel link show [NAME]

`

const fouUsageText = `Usage: xtunnel fou add port PORT ipproto 4|41|47 [-6]
       xtunnel fou add port PORT gue [-6]
       xtunnel fou del port PORT [-6]
       xtunnel fou show [-6]

`

// commandUsage turns a grammar from the tunnel package (FDBUsage,
// MirrorUsage) into a usage text: its first lines, the command lines up
// to the first indented one, become "Usage: xtunnel ..." lines.
func commandUsage(grammar string) string {
	lines := strings.Split(grammar, "\n")
	for i, l := range lines {
		if l == "" || strings.HasPrefix(l, " ") {
			break
		}
		prefix := "       xtunnel "
		if i == 0 {
			prefix = "Usage: xtunnel "
		}
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

var topicText = map[string]string{
	"bench": `Usage: xtunnel bench [cost] [gateway] [vxlan] [tcp] [scale]

Runs the performance lab (as make bench does), in network namespaces of
its own: per-packet cost of every program, packets per second through a
veth pair with XDP live frames (gateway decap and encap against a MAC-swap
program), the kernel's VXLAN against xtunnel's, TCP through tunnels
against plain veth, and the cost at 1 to 1,000,000 peers. Prints one
table with each target; writes bench-results.json and bench-results.png
here. Needs root; about two to four minutes. Names of sections limit it.
`,
	"attach": `Usage: xtunnel attach IFNAME [gateway]

Loads XDP on the netdev IFNAME (--xdp-mode). Attaching again replaces
the program in place and sets gateway mode on or off.
  gateway  route and forward in XDP, as a router: plain IP packets whose
           destination matches an xtunnel route (xtunnel route add) are
           encapsulated here and sent out with MACs from the FIB, and
           decapsulated packets for a destination behind another attached
           netdev go straight there; TTL is decremented. What XDP cannot
           finish (no neighbour yet, TTL expiring, too big, local
           destination) goes to the stack, counted (xtunnel stats:
           gw_*, pass_gw_*). Needs forwarding on (sysctl).
`,
	"detach": `Usage: xtunnel detach IFNAME

Removes what attach and link add created for IFNAME.
`,
	"link del": `Usage: xtunnel link del NAME

Removes the tunnel NAME and its netdev.
`,
	"link show": `Usage: xtunnel link show [NAME]

Prints one line per tunnel (or only NAME) and the attached netdevs;
-v adds the link add command that recreates each tunnel.
`,
	"stats": `Usage: xtunnel stats [NAME]

Prints packet and byte counters per tunnel (or only NAME), then the
non-zero counters of why packets were dropped or passed to the kernel.
`,
	"features": `Usage: xtunnel features

Probes the running kernel for what xtunnel needs and prints each item.
`,
}

// writeHelp prints the help for topic ("" for everything).
func writeHelp(w io.Writer, topic string, fs *pflag.FlagSet) error {
	var err error
	switch topic {
	case "":
		_, err = fmt.Fprintf(w, "%s\nOptions (anywhere on the line):\n%s", usageText, fs.FlagUsages())
	case "link", "link add":
		_, err = fmt.Fprintf(w, "%s%s\n", linkUsageText, tunnel.LinkAddUsage)
	case "fou", "fou add", "fou del", "fou show":
		_, err = fmt.Fprintf(w, "%s%s\n", fouUsageText, tunnel.FOUUsage)
	case "fdb", "fdb add", "fdb del", "fdb show":
		_, err = io.WriteString(w, commandUsage(tunnel.FDBUsage))
	case "mirror", "mirror add", "mirror del", "mirror show":
		_, err = io.WriteString(w, commandUsage(tunnel.MirrorUsage))
	case "route", "route add", "route del", "route show":
		_, err = io.WriteString(w, commandUsage(tunnel.RouteUsage))
	default:
		text, ok := topicText[topic]
		if !ok {
			text = usageText
		}
		_, err = io.WriteString(w, text)
	}
	return err
}
