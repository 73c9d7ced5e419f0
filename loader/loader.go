// Package loader loads xtunnel's BPF objects, pins them under bpffs and
// attaches them to netdevs (XDP native or generic, TC through TCX or a
// clsact qdisc).
package loader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
)

// Objects are the loaded programs and the maps they share.
type Objects struct {
	Underlay  *ebpf.Program // XDP on underlay netdevs: decap
	Overlay   *ebpf.Program // XDP on overlay netdevs: NAPI for redirects
	Encap     *ebpf.Program // TC egress on overlay netdevs: encap
	Peer      *ebpf.Program // TC ingress on overlay veth peers: slow TX encap
	MirrorIn  *ebpf.Program // TC ingress on a monitored netdev: copy to ERSPAN
	MirrorOut *ebpf.Program // TC egress on a monitored netdev: copy to ERSPAN
	Maps      Maps
}

// Maps are the maps every program shares.
type Maps struct {
	Encap   *ebpf.Map // overlay ifindex -> TunnelT
	Decap   *ebpf.Map // DecapKeyT -> TunnelT
	Devmap  *ebpf.Map // veth peer ifindex -> itself
	TStats  *ebpf.Map // tunnel id -> per-CPU TunStatsT
	Reasons *ebpf.Map // reason -> per-CPU count
	Ports   *ebpf.Map // underlay ifindex -> PortT
	FOU     *ebpf.Map // FOUKeyT -> FOUT
	ICMPRL  *ebpf.Map // per-CPU ICMP error token bucket
	Peers   *ebpf.Map // veth peer ifindex -> overlay ifindex
	FDB     *ebpf.Map // FDBKeyT -> FDBEntryT
	Mirrors *ebpf.Map // MirrorKeyT -> MirrorT
	Routes  *ebpf.Map // LPM: RouteKeyT -> RouteT
	Hosts   *ebpf.Map // host routes (key prefixlen 128): RouteKeyT -> RouteT
	RPeers  *ebpf.Map // PeerKeyT -> overlay ifindex (external tunnels' peers)
}

// Sizes are the map sizes chosen when state is first created; 0 is the
// default (XT_MAX_TUNNELS, XT_MAX_ROUTES).
type Sizes struct {
	Tunnels int // xt_encap, xt_decap, xt_devmap, xt_tstats, xt_peers
	Routes  int // xt_routes, xt_hosts, xt_rpeers
}

var (
	tunnelMaps = []string{"xt_encap", "xt_decap", "xt_devmap", "xt_tstats", "xt_peers"}
	routeMaps  = []string{"xt_routes", "xt_hosts", "xt_rpeers"}
)

// Generated types the maps hold.
type (
	TunnelT    = xdpUnderlayXtTunnel
	DecapKeyT  = xdpUnderlayXtDecapKey
	TunStatsT  = xdpUnderlayXtTunStats
	PortT      = xdpUnderlayXtPort
	FOUKeyT    = xdpUnderlayXtFouKey
	FOUT       = xdpUnderlayXtFouPort
	FDBKeyT    = xdpUnderlayXtFdbKey
	FDBEntryT  = xdpUnderlayXtFdbEntry
	MirrorKeyT = xdpUnderlayXtMirrorKey
	MirrorT    = xdpUnderlayXtMirror
	RouteKeyT  = xdpUnderlayXtRouteKey
	RouteT     = xdpUnderlayXtRoute
	PeerKeyT   = xdpUnderlayXtPeerKey
)

// Constants shared with the programs (headers/xtunnel.h).
const (
	TypeGRE       = uint8(xdpUnderlayXtTypeXT_TYPE_GRE)
	TypeIPIP      = uint8(xdpUnderlayXtTypeXT_TYPE_IPIP)
	TypeSIT       = uint8(xdpUnderlayXtTypeXT_TYPE_SIT)
	TypeIP6TNL    = uint8(xdpUnderlayXtTypeXT_TYPE_IP6TNL)
	TypeIP6GRE    = uint8(xdpUnderlayXtTypeXT_TYPE_IP6GRE)
	TypeGRETAP    = uint8(xdpUnderlayXtTypeXT_TYPE_GRETAP)
	TypeIP6GRETAP = uint8(xdpUnderlayXtTypeXT_TYPE_IP6GRETAP)
	TypeGeneve    = uint8(xdpUnderlayXtTypeXT_TYPE_GENEVE)
	TypeVXLAN     = uint8(xdpUnderlayXtTypeXT_TYPE_VXLAN)
	TypeERSPAN    = uint8(xdpUnderlayXtTypeXT_TYPE_ERSPAN)
	TypeIP6ERSPAN = uint8(xdpUnderlayXtTypeXT_TYPE_IP6ERSPAN)

	UDPFOU    = uint8(xdpUnderlayXtUdpKindXT_UDP_FOU)
	UDPVXLAN  = uint8(xdpUnderlayXtUdpKindXT_UDP_VXLAN)
	UDPGeneve = uint8(xdpUnderlayXtUdpKindXT_UDP_GENEVE)

	FloodMax = 8 // XT_FLOOD_MAX

	FlagIKey         = uint32(xdpUnderlayXtTunnelFlagXT_F_IKEY)
	FlagOKey         = uint32(xdpUnderlayXtTunnelFlagXT_F_OKEY)
	FlagTOSInherit   = uint32(xdpUnderlayXtTunnelFlagXT_F_TOS_INHERIT)
	FlagDF           = uint32(xdpUnderlayXtTunnelFlagXT_F_DF)
	FlagOuter6       = uint32(xdpUnderlayXtTunnelFlagXT_F_OUTER6)
	FlagInner4       = uint32(xdpUnderlayXtTunnelFlagXT_F_INNER4)
	FlagInner6       = uint32(xdpUnderlayXtTunnelFlagXT_F_INNER6)
	FlagInnerMPLS    = uint32(xdpUnderlayXtTunnelFlagXT_F_INNER_MPLS)
	FlagEncapLimit   = uint32(xdpUnderlayXtTunnelFlagXT_F_ENCAP_LIMIT)
	FlagFlowInherit  = uint32(xdpUnderlayXtTunnelFlagXT_F_FLOW_INHERIT)
	FlagIgnoreDF     = uint32(xdpUnderlayXtTunnelFlagXT_F_IGNORE_DF)
	FlagRemote6to4   = uint32(xdpUnderlayXtTunnelFlagXT_F_REMOTE_6TO4)
	FlagRemoteISATAP = uint32(xdpUnderlayXtTunnelFlagXT_F_REMOTE_ISATAP)
	FlagGRE          = uint32(xdpUnderlayXtTunnelFlagXT_F_GRE)
	FlagFOU          = uint32(xdpUnderlayXtTunnelFlagXT_F_FOU)
	FlagGUE          = uint32(xdpUnderlayXtTunnelFlagXT_F_GUE)
	FlagICsum        = uint32(xdpUnderlayXtTunnelFlagXT_F_ICSUM)
	FlagOCsum        = uint32(xdpUnderlayXtTunnelFlagXT_F_OCSUM)
	FlagISeq         = uint32(xdpUnderlayXtTunnelFlagXT_F_ISEQ)
	FlagOSeq         = uint32(xdpUnderlayXtTunnelFlagXT_F_OSEQ)
	FlagSlowTX       = uint32(xdpUnderlayXtTunnelFlagXT_F_SLOW_TX)
	FlagUDPCsum      = uint32(xdpUnderlayXtTunnelFlagXT_F_UDP_CSUM)
	FlagEth          = uint32(xdpUnderlayXtTunnelFlagXT_F_ETH)
	FlagVXLAN        = uint32(xdpUnderlayXtTunnelFlagXT_F_VXLAN)
	FlagGeneve       = uint32(xdpUnderlayXtTunnelFlagXT_F_GENEVE)
	FlagERSPAN       = uint32(xdpUnderlayXtTunnelFlagXT_F_ERSPAN)
	FlagFDB          = uint32(xdpUnderlayXtTunnelFlagXT_F_FDB)
	FlagLearn        = uint32(xdpUnderlayXtTunnelFlagXT_F_LEARN)
	FlagUDPZeroRx    = uint32(xdpUnderlayXtTunnelFlagXT_F_UDP_ZERO_RX)
	FlagGeneveCrit   = uint32(xdpUnderlayXtTunnelFlagXT_F_GENEVE_CRIT)
	FlagExternal     = uint32(xdpUnderlayXtTunnelFlagXT_F_EXTERNAL)

	NumReasons = int(xdpUnderlayXtReasonXT_R_MAX)
)

// Load loads every program. With pinDir set, maps are pinned there by name
// and reused when already pinned, so each short-lived process shares one
// state; with pinDir empty (tests) the maps are private to this load.
func Load(pinDir string) (*Objects, error) {
	return LoadSized(pinDir, Sizes{})
}

// LoadSized is Load with map sizes for state created now; maps already
// pinned keep the sizes they were created with.
func LoadSized(pinDir string, sizes Sizes) (*Objects, error) {
	if pinDir != "" {
		if err := os.MkdirAll(pinDir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", pinDir, err)
		}
	}
	var under xdpUnderlayObjects
	spec, err := loadXdpUnderlay()
	if err != nil {
		return nil, err
	}
	opts := &ebpf.CollectionOptions{}
	for _, g := range []struct {
		names []string
		n     int
	}{{tunnelMaps, sizes.Tunnels}, {routeMaps, sizes.Routes}} {
		for _, name := range g.names {
			if g.n > 0 {
				spec.Maps[name].MaxEntries = uint32(g.n)
			}
			if pinDir == "" {
				continue
			}
			if pm, err := ebpf.LoadPinnedMap(filepath.Join(pinDir, name), nil); err == nil {
				spec.Maps[name].MaxEntries = pm.MaxEntries()
				pm.Close()
			}
		}
	}
	if pinDir != "" {
		for _, m := range spec.Maps {
			m.Pinning = ebpf.PinByName
		}
		opts.Maps.PinPath = pinDir
	}
	if err := spec.LoadAndAssign(&under, opts); err != nil {
		return nil, loadError("xdp_underlay", pinDir, err)
	}
	m := Maps{
		Encap: under.XtEncap, Decap: under.XtDecap, Devmap: under.XtDevmap,
		TStats: under.XtTstats, Reasons: under.XtReasons, Ports: under.XtPorts,
		FOU: under.XtFou, ICMPRL: under.XtIcmpRl, Peers: under.XtPeers,
		FDB: under.XtFdb, Mirrors: under.XtMirrors, Routes: under.XtRoutes, Hosts: under.XtHosts, RPeers: under.XtRpeers,
	}
	replace := ebpf.CollectionOptions{MapReplacements: map[string]*ebpf.Map{}}
	for name, f := range m.byName() {
		replace.MapReplacements[name] = *f
	}
	objs := &Objects{Underlay: under.XtXdpUnderlay, Maps: m}
	for _, p := range []struct {
		load func() (*ebpf.CollectionSpec, error)
		name string
		into **ebpf.Program
	}{
		{loadXdpOverlay, "xt_xdp_overlay", &objs.Overlay},
		{loadTcOverlay, "xt_tc_encap", &objs.Encap},
		{loadTcPeer, "xt_tc_peer", &objs.Peer},
		{loadTcMirror, "xt_tc_mirror_in", &objs.MirrorIn},
		{loadTcMirror, "xt_tc_mirror_out", &objs.MirrorOut},
	} {
		prog, err := loadProgram(p.load, p.name, replace)
		if err != nil {
			objs.Close()
			return nil, loadError(p.name, pinDir, err)
		}
		*p.into = prog
	}
	return objs, nil
}

// loadProgram loads one program of another object on the shared maps.
func loadProgram(load func() (*ebpf.CollectionSpec, error), name string,
	opts ebpf.CollectionOptions) (*ebpf.Program, error) {
	spec, err := load()
	if err != nil {
		return nil, err
	}
	for name, m := range opts.MapReplacements {
		if ms, ok := spec.Maps[name]; ok {
			ms.MaxEntries = m.MaxEntries() // sized at creation (LoadSized)
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, opts)
	if err != nil {
		return nil, err
	}
	defer coll.Close() // its maps are clones of the shared ones
	prog := coll.DetachProgram(name)
	if prog == nil {
		return nil, fmt.Errorf("program %s not in its object", name)
	}
	return prog, nil
}

func loadError(what, pinDir string, err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("load %s: the kernel's verifier rejected it (kernel older than the README's floor?): %w", what, err)
	}
	if errors.Is(err, ebpf.ErrMapIncompatible) {
		return fmt.Errorf("load %s: maps pinned in %s are from another xtunnel version; "+
			"detach every netdev (xtunnel detach IFNAME) or remove %s: %w", what, pinDir, pinDir, err)
	}
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("load %s: permission denied; run as root (needs CAP_BPF and CAP_NET_ADMIN): %w", what, err)
	}
	return fmt.Errorf("load %s: %w", what, err)
}

// Close releases the file descriptors; pinned objects stay.
func (o *Objects) Close() error {
	for _, p := range []*ebpf.Program{o.Underlay, o.Overlay, o.Encap, o.Peer, o.MirrorIn, o.MirrorOut} {
		if p != nil {
			p.Close()
		}
	}
	o.Maps.Close()
	return nil
}

// ReasonNames returns the names of enum xt_reason from the object's BTF,
// indexed by value: XT_R_PASS_FRAGMENT becomes "pass_fragment".
func ReasonNames() ([]string, error) {
	spec, err := loadXdpUnderlay()
	if err != nil {
		return nil, err
	}
	var e *btfEnum
	if e, err = findEnum(spec, "xt_reason"); err != nil {
		return nil, err
	}
	names := make([]string, NumReasons)
	for _, v := range e.Values {
		if int(v.Value) < NumReasons {
			names[v.Value] = reasonName(v.Name)
		}
	}
	return names, nil
}

// byName maps each pinned map's name to its field.
func (m *Maps) byName() map[string]**ebpf.Map {
	return map[string]**ebpf.Map{
		"xt_encap": &m.Encap, "xt_decap": &m.Decap, "xt_devmap": &m.Devmap,
		"xt_tstats": &m.TStats, "xt_reasons": &m.Reasons, "xt_ports": &m.Ports,
		"xt_fou": &m.FOU, "xt_icmp_rl": &m.ICMPRL, "xt_peers": &m.Peers,
		"xt_fdb": &m.FDB, "xt_mirrors": &m.Mirrors, "xt_routes": &m.Routes, "xt_hosts": &m.Hosts, "xt_rpeers": &m.RPeers,
	}
}

// OpenPinnedMaps opens the maps pinned in pinDir without loading programs.
// It returns an error wrapping os.ErrNotExist when nothing is pinned there.
func OpenPinnedMaps(pinDir string) (Maps, error) {
	var m Maps
	for name, f := range m.byName() {
		pm, err := ebpf.LoadPinnedMap(filepath.Join(pinDir, name), nil)
		if err != nil {
			m.Close()
			return Maps{}, fmt.Errorf("open pinned map %s: %w", name, err)
		}
		*f = pm
	}
	return m, nil
}

// Close closes every map.
func (m Maps) Close() {
	for _, f := range m.byName() {
		if *f != nil {
			(*f).Close()
		}
	}
}
