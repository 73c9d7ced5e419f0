// Package xtunnel is an eBPF/XDP tunnel dataplane for Linux driven by a Go
// control plane. This file only drives code generation: see loader/.
package xtunnel

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -cc clang-19 -strip llvm-strip-19 -output-dir loader -go-package loader -type xt_tunnel -type xt_decap_key -type xt_tun_stats -type xt_port -type xt_fou_key -type xt_fou_port -type xt_ratelimit -type xt_reason -type xt_type -type xt_tunnel_flag -type xt_udp_kind -type xt_fdb_key -type xt_fdb_entry -type xt_mirror_key -type xt_mirror -type xt_route_key -type xt_route -type xt_peer_key xdpUnderlay bpf/xdp_underlay.c -- -I./headers -I/usr/include/x86_64-linux-gnu -O2 -g -mcpu=v3 -Wall -Werror
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -cc clang-19 -strip llvm-strip-19 -output-dir loader -go-package loader xdpOverlay bpf/xdp_overlay.c -- -I./headers -I/usr/include/x86_64-linux-gnu -O2 -g -mcpu=v3 -Wall -Werror
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -cc clang-19 -strip llvm-strip-19 -output-dir loader -go-package loader tcOverlay bpf/tc_overlay.c -- -I./headers -I/usr/include/x86_64-linux-gnu -O2 -g -mcpu=v3 -Wall -Werror
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -cc clang-19 -strip llvm-strip-19 -output-dir loader -go-package loader tcPeer bpf/tc_peer.c -- -I./headers -I/usr/include/x86_64-linux-gnu -O2 -g -mcpu=v3 -Wall -Werror
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -cc clang-19 -strip llvm-strip-19 -output-dir loader -go-package loader tcMirror bpf/tc_mirror.c -- -I./headers -I/usr/include/x86_64-linux-gnu -O2 -g -mcpu=v3 -Wall -Werror
