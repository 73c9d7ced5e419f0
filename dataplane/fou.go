package dataplane

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/xtunnel/xtunnel/tunnel"
)

// AddFOU opens a FOU or GUE receive port: UDP packets to it, on any
// attached underlay, are decapsulated like the protocol it names.
func (d *Dataplane) AddFOU(p tunnel.FOUPort) error {
	if err := p.Validate(); err != nil {
		return err
	}
	_, tb, err := d.load()
	if err != nil {
		return err
	}
	if err := tb.PutFOU(p); err != nil {
		if errors.Is(err, ebpf.ErrKeyExist) {
			del := fmt.Sprintf("xtunnel fou del port %d", p.Port)
			if p.IPv6 {
				del += " -6"
			}
			return fmt.Errorf("UDP port %d is already open (xtunnel fou show); delete it first: %s", p.Port, del)
		}
		return err
	}
	return nil
}

// DelFOU closes a receive port.
func (d *Dataplane) DelFOU(p tunnel.FOUPort) error {
	tb, ok, err := d.tables()
	if err != nil {
		return err
	}
	if ok {
		err = tb.DeleteFOU(p)
	}
	if !ok || errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("no port %d is open (xtunnel fou show lists them)", p.Port)
	}
	if err != nil {
		return err
	}
	return d.removeState() // the last thing xtunnel held here may be gone
}

// FOUPorts lists the receive ports.
func (d *Dataplane) FOUPorts() ([]tunnel.FOUPort, error) {
	tb, ok, err := d.tables()
	if err != nil || !ok {
		return nil, err
	}
	return tb.FOUPorts()
}

// fouNote tells the user when the port s's peer sends to is not open here.
func (d *Dataplane) fouNote(s tunnel.Spec) string {
	if s.Encap.Type == tunnel.EncapNone {
		return ""
	}
	ports, _ := d.FOUPorts()
	for _, p := range ports {
		if p.Port == s.Encap.DPort && p.IPv6 == s.Type.Outer6() {
			return ""
		}
	}
	return fmt.Sprintf("no FOU/GUE port %d is open here, so what the peer sends back is not received; open it: xtunnel fou add port %d %s",
		s.Encap.DPort, s.Encap.DPort, map[bool]string{true: "gue", false: "ipproto N"}[s.Encap.Type == tunnel.EncapGUE])
}
