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
	Underlay *ebpf.Program // XDP on underlay netdevs: decap
	Overlay  *ebpf.Program // XDP on overlay netdevs: NAPI for redirects
	Encap    *ebpf.Program // TC egress on overlay netdevs: encap
	Peer     *ebpf.Program // TC ingress on overlay veth peers: slow TX encap
	Maps     Maps
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
}

// Generated types the maps hold.
type (
	TunnelT   = xdpUnderlayXtTunnel
	DecapKeyT = xdpUnderlayXtDecapKey
	TunStatsT = xdpUnderlayXtTunStats
	PortT     = xdpUnderlayXtPort
	FOUKeyT   = xdpUnderlayXtFouKey
	FOUT      = xdpUnderlayXtFouPort
)

// Constants shared with the programs (headers/xtunnel.h).
const (
	TypeGRE    = uint8(xdpUnderlayXtTypeXT_TYPE_GRE)
	TypeIPIP   = uint8(xdpUnderlayXtTypeXT_TYPE_IPIP)
	TypeSIT    = uint8(xdpUnderlayXtTypeXT_TYPE_SIT)
	TypeIP6TNL = uint8(xdpUnderlayXtTypeXT_TYPE_IP6TNL)
	TypeIP6GRE = uint8(xdpUnderlayXtTypeXT_TYPE_IP6GRE)

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

	NumReasons = int(xdpUnderlayXtReasonXT_R_MAX)
)

// Load loads every program. With pinDir set, maps are pinned there by name
// and reused when already pinned, so each short-lived process shares one
// state; with pinDir empty (tests) the maps are private to this load.
func Load(pinDir string) (*Objects, error) {
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
	if pinDir != "" {
		for _, m := range spec.Maps {
			m.Pinning = ebpf.PinByName
		}
		opts.Maps.PinPath = pinDir
	}
	if err := spec.LoadAndAssign(&under, opts); err != nil {
		return nil, loadError("xdp_underlay", pinDir, err)
	}
	shared := map[string]*ebpf.Map{
		"xt_encap": under.XtEncap, "xt_decap": under.XtDecap, "xt_devmap": under.XtDevmap,
		"xt_tstats": under.XtTstats, "xt_reasons": under.XtReasons, "xt_ports": under.XtPorts,
		"xt_fou": under.XtFou, "xt_icmp_rl": under.XtIcmpRl, "xt_peers": under.XtPeers,
	}
	replace := &ebpf.CollectionOptions{MapReplacements: shared}

	var over xdpOverlayObjects
	if err := loadXdpOverlayObjects(&over, replace); err != nil {
		under.Close()
		return nil, loadError("xdp_overlay", pinDir, err)
	}
	// The overlay object's own map handles are clones; only its program is kept.
	over.xdpOverlayMaps.Close()

	var tc tcOverlayObjects
	if err := loadTcOverlayObjects(&tc, replace); err != nil {
		under.Close()
		over.Close()
		return nil, loadError("tc_overlay", pinDir, err)
	}
	tc.tcOverlayMaps.Close()

	var peer tcPeerObjects
	if err := loadTcPeerObjects(&peer, replace); err != nil {
		under.Close()
		over.Close()
		tc.Close()
		return nil, loadError("tc_peer", pinDir, err)
	}
	peer.tcPeerMaps.Close()

	return &Objects{
		Underlay: under.XtXdpUnderlay,
		Overlay:  over.XtXdpOverlay,
		Encap:    tc.XtTcEncap,
		Peer:     peer.XtTcPeer,
		Maps: Maps{
			Encap: under.XtEncap, Decap: under.XtDecap, Devmap: under.XtDevmap,
			TStats: under.XtTstats, Reasons: under.XtReasons, Ports: under.XtPorts,
			FOU: under.XtFou, ICMPRL: under.XtIcmpRl, Peers: under.XtPeers,
		},
	}, nil
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
	for _, p := range []*ebpf.Program{o.Underlay, o.Overlay, o.Encap, o.Peer} {
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

// PinPath joins a pin directory and an object name.
func PinPath(dir, name string) string { return filepath.Join(dir, name) }

// mapNames are the pinned maps, by the name they are pinned under.
var mapNames = []string{"xt_encap", "xt_decap", "xt_devmap", "xt_tstats", "xt_reasons", "xt_ports", "xt_fou", "xt_icmp_rl", "xt_peers"}

// OpenPinnedMaps opens the maps pinned in pinDir without loading programs.
// It returns an error wrapping os.ErrNotExist when nothing is pinned there.
func OpenPinnedMaps(pinDir string) (Maps, error) {
	ms := make([]*ebpf.Map, len(mapNames))
	for i, n := range mapNames {
		m, err := ebpf.LoadPinnedMap(filepath.Join(pinDir, n), nil)
		if err != nil {
			for _, o := range ms[:i] {
				o.Close()
			}
			return Maps{}, fmt.Errorf("open pinned map %s: %w", n, err)
		}
		ms[i] = m
	}
	return Maps{Encap: ms[0], Decap: ms[1], Devmap: ms[2], TStats: ms[3], Reasons: ms[4], Ports: ms[5],
		FOU: ms[6], ICMPRL: ms[7], Peers: ms[8]}, nil
}

// Close closes every map.
func (m Maps) Close() {
	for _, x := range []*ebpf.Map{m.Encap, m.Decap, m.Devmap, m.TStats, m.Reasons, m.Ports, m.FOU, m.ICMPRL, m.Peers} {
		if x != nil {
			x.Close()
		}
	}
}
