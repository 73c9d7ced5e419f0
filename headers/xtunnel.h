/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every struct and constant shared between the BPF programs and Go.
 * Go sees these only through bpf2go-generated types.
 */
#pragma once

#include <linux/types.h>

#define XT_MAX_TUNNELS 4096
#define XT_MAX_PORTS 64
#define XT_MAX_ROUTES 65536 /* default; xtunnel --max-routes sizes xt_routes, xt_rpeers */
#define XT_MAX_FDB 65536
#define XT_MAX_MIRRORS 256
#define XT_FLOOD_MAX 8        /* remotes in one tunnel's flood list */
#define XT_GENEVE_OPTS_MAX 64 /* Geneve option bytes a tunnel sends */

/* Tunnel types. */
enum xt_type {
	XT_TYPE_NONE = 0,
	XT_TYPE_GRE = 1,
	XT_TYPE_IPIP = 2,
	XT_TYPE_SIT = 3,
	XT_TYPE_IP6TNL = 4,
	XT_TYPE_IP6GRE = 5,
	XT_TYPE_GRETAP = 6,
	XT_TYPE_IP6GRETAP = 7,
	XT_TYPE_GENEVE = 8,
	XT_TYPE_VXLAN = 9,
	XT_TYPE_ERSPAN = 10,
	XT_TYPE_IP6ERSPAN = 11,
};

/* What a UDP port configured in xt_fou receives. */
enum xt_udp_kind {
	XT_UDP_FOU = 0, /* FOU or GUE (xt_fou_port.gue) */
	XT_UDP_VXLAN = 1,
	XT_UDP_GENEVE = 2,
};

/* xt_tunnel.flags */
enum xt_tunnel_flag {
	XT_F_IKEY = 1 << 0,           /* received packets carry ikey */
	XT_F_OKEY = 1 << 1,           /* sent packets carry okey */
	XT_F_TOS_INHERIT = 1 << 2,    /* outer TOS / traffic class from the inner packet */
	XT_F_DF = 1 << 3,             /* outer DF set (pmtudisc) */
	XT_F_OUTER6 = 1 << 4,         /* IPv6 underlay */
	XT_F_INNER4 = 1 << 5,         /* carries IPv4 */
	XT_F_INNER6 = 1 << 6,         /* carries IPv6 */
	XT_F_INNER_MPLS = 1 << 7,     /* carries MPLS (RFC 4023) */
	XT_F_ENCAP_LIMIT = 1 << 8,    /* sends the RFC 2473 encapsulation limit option */
	XT_F_FLOW_INHERIT = 1 << 9,   /* outer flow label from the inner IPv6 packet */
	XT_F_IGNORE_DF = 1 << 10,     /* inner DF does not set the outer DF */
	XT_F_REMOTE_6TO4 = 1 << 11,   /* sit: remote from a 2002::/16 inner destination */
	XT_F_REMOTE_ISATAP = 1 << 12, /* sit: remote from an ISATAP interface identifier */
	XT_F_GRE = 1 << 13,           /* a GRE header sits between outer and inner */
	XT_F_FOU = 1 << 14,           /* UDP encapsulation (FOU) */
	XT_F_GUE = 1 << 15,           /* UDP + GUE header (GUE) */
	XT_F_ICSUM = 1 << 16,         /* received GRE must carry a valid checksum */
	XT_F_OCSUM = 1 << 17,         /* sent GRE carries a checksum */
	XT_F_ISEQ = 1 << 18,          /* received GRE must carry in-order sequence numbers */
	XT_F_OSEQ = 1 << 19,          /* sent GRE carries sequence numbers */
	XT_F_SLOW_TX = 1 << 20, /* encap after the stack segmented and checksummed (peer ingress) */
	XT_F_UDP_CSUM = 1 << 21,    /* UDP checksum sent (FOU/GUE/VXLAN/Geneve) */
	XT_F_ETH = 1 << 22,         /* carries Ethernet frames: the overlay is an Ethernet device */
	XT_F_VXLAN = 1 << 23,       /* UDP + VXLAN header */
	XT_F_GENEVE = 1 << 24,      /* UDP + Geneve header (and options) */
	XT_F_ERSPAN = 1 << 25,      /* GRE + ERSPAN header (erspan_ver) */
	XT_F_FDB = 1 << 26,         /* no fixed remote: destinations from xt_fdb */
	XT_F_LEARN = 1 << 27,       /* learn inner source MAC -> outer source on receive */
	XT_F_UDP_ZERO_RX = 1 << 28, /* accept zero UDP checksums over IPv6 */
	XT_F_GENEVE_CRIT = 1 << 29, /* a Geneve option sent is critical: set the C bit */
	XT_F_EXTERNAL = 1 << 30,    /* multipoint: remote, key, TTL, TOS per route (xt_routes) */
};

/* Why a packet left the fast path, or what happened to it. One counter
 * each, per CPU (xt_reasons). XT_R_PASS_* go to the stack untouched,
 * XT_R_DROP_* are dropped. Names reach users via BTF: keep them stable.
 */
enum xt_reason {
	XT_R_PASS_NOT_IP = 0,  /* rx: not IPv4/IPv6 */
	XT_R_PASS_NOT_TUNNEL,  /* rx: IP, but no tunnel protocol */
	XT_R_PASS_TRUNCATED,   /* rx: outer headers shorter than they say */
	XT_R_PASS_BAD_IHL,     /* rx: bad IPv4 version or IHL < 5 */
	XT_R_PASS_IP_OPTIONS,  /* rx: outer IPv4 options */
	XT_R_PASS_FRAGMENT,    /* rx: outer fragment (IPv4, or an IPv6 fragment header) */
	XT_R_PASS_NO_TUNNEL,   /* rx: no tunnel for (local, remote, protocol, key) */
	XT_R_PASS_GRE_VERSION, /* rx: GRE version != 0 */
	XT_R_PASS_GRE_ROUTING, /* rx: GRE routing or strict source route bit */
	XT_R_DROP_GRE_CSUM,    /* rx: GRE checksum wrong, or its presence differs from icsum */
	XT_R_DROP_GRE_SEQ,     /* rx: GRE sequence number missing or out of order (iseq) */
	XT_R_PASS_EXT_HEADERS, /* rx: IPv6 extension headers we do not walk */
	XT_R_PASS_GUE_CONTROL, /* rx: GUE control message */
	XT_R_PASS_GUE_VERSION, /* rx: GUE version other than 0 or 1 */
	XT_R_DROP_INNER_TRUNC, /* rx: inner packet truncated or malformed */
	XT_R_DROP_INNER_PROTO, /* rx: inner protocol not carried by this tunnel (mode) */
	XT_R_DROP_ECN,         /* rx: outer CE on a not-ECT inner packet */
	XT_R_DROP_ADJUST,      /* rx: bpf_xdp_adjust_head failed */
	XT_R_DECAP,            /* rx: decapsulated and redirected */
	XT_R_TX_NO_TUNNEL,     /* tx: program on a device with no tunnel */
	XT_R_TX_NOT_IP,        /* tx: frame is not IPv4/IPv6/MPLS */
	XT_R_TX_INNER_FAMILY,  /* tx: payload not carried by this tunnel (mode) */
	XT_R_TX_TRUNCATED,     /* tx: inner header truncated */
	XT_R_TX_TOO_BIG,       /* tx: larger than the underlay MTU */
	XT_R_TX_NO_REMOTE,     /* tx: sit 6to4/ISATAP destination gives no remote */
	XT_R_TX_NO_NEIGH, /* tx: MPLS: the FIB gave no next hop (no route or neighbour, forwarding off) */
	XT_R_TX_ADJUST,            /* tx: bpf_skb_adjust_room/store failed */
	XT_R_TX_REDIRECT,          /* tx: bpf_redirect_neigh failed */
	XT_R_ENCAP,                /* tx: encapsulated and redirected */
	XT_R_TX_PMTU_ICMP,         /* tx: too big: ICMP frag needed / packet too big sent back */
	XT_R_TX_PMTU_LIMITED,      /* tx: too big, ICMP error rate-limited: dropped, no reply */
	XT_R_TX_SLOW,              /* tx: handed to the overlay peer to be encapsulated there */
	XT_R_TX_CSUM,              /* tx: checksum over a packet too long to sum (> 1536 bytes) */
	XT_R_PASS_GRE_CSUM_LONG,   /* rx: GRE checksum over a packet too long to verify here */
	XT_R_PASS_VXLAN_FLAGS,     /* rx: VXLAN I flag clear or reserved bits set */
	XT_R_PASS_GENEVE_VERSION,  /* rx: Geneve version other than 0 */
	XT_R_PASS_GENEVE_OAM,      /* rx: Geneve OAM packet: not data */
	XT_R_DROP_GENEVE_OPTLEN,   /* rx: a Geneve option overruns the option area */
	XT_R_DROP_GENEVE_CRITICAL, /* rx: Geneve critical option (none is known here) */
	XT_R_PASS_ERSPAN_VERSION,  /* rx: ERSPAN version other than 1 (type II) or 2 (type III) */
	XT_R_DROP_UDP_ZERO_CSUM,   /* rx: zero UDP checksum over IPv6 without udp6zerocsumrx */
	XT_R_TX_FDB_MISS,          /* tx: no FDB entry for the destination and no flood list */
	XT_R_TX_FLOOD_COPY,        /* tx: an extra copy sent to another flood-list remote */
	XT_R_TX_GSO_NON_IP,        /* tx: a segmentation-offload frame that is not IPv4/IPv6 */
	XT_R_MIRROR,               /* mirror: frame copied to the ERSPAN device */
	XT_R_MIRROR_SAMPLED_OUT,   /* mirror: frame not copied (sample 1/N) */
	XT_R_MIRROR_FAIL,          /* mirror: bpf_clone_redirect failed */
	XT_R_TX_NO_ROUTE, /* tx: external tunnel: no route of its for the inner destination */
	XT_R_GW_ENCAP, /* gateway: plain packet routed into a tunnel, encapsulated and sent in XDP */
	XT_R_GW_DECAP,         /* gateway: decapsulated and forwarded to an attached NIC in XDP */
	XT_R_PASS_GW_TTL,      /* gateway: TTL / hop limit would expire: to the stack (ICMP) */
	XT_R_PASS_GW_NO_NEIGH, /* gateway: next hop not resolved yet: to the stack */
	XT_R_PASS_GW_MTU,      /* gateway: too big for the egress MTU: to the stack */
	XT_R_PASS_GW_FIB,      /* gateway: no FIB result XDP can use (local, unreachable, ...) */
	XT_R_PASS_GW_SLOW, /* gateway: the tunnel needs the slow TX path (checksums, sequence) */
	XT_R_PASS_GW_PORT, /* gateway: the egress NIC is not attached */
	XT_R_MAX,
};

/* One tunnel. Value of xt_encap (key: overlay ifindex) and of xt_decap.
 * Addresses are 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d).
 */
struct xt_tunnel {
	__u8 local[16];
	__u8 remote[16];    /* all zero: from the inner destination (sit) */
	__be32 ikey;        /* as on the wire */
	__be32 okey;        /* as on the wire */
	__be32 flowlabel;   /* IPv6 outer flow label, low 20 bits, as on the wire */
	__u32 id;           /* index into xt_tstats */
	__u32 ifindex;      /* overlay netdev users see (gre1) */
	__u32 peer_ifindex; /* its veth peer: devmap target for decap */
	__u32 link_ifindex; /* underlay netdev */
	__u32 flags;        /* enum xt_tunnel_flag */
	__be16 encap_sport; /* UDP source port; 0: a hash of the inner flow in sport_min..max */
	__be16 encap_dport; /* UDP destination port (FOU/GUE/VXLAN/Geneve) */
	__u16 sport_min;    /* host order */
	__u16 sport_max;
	__u32 tx_seq;                  /* next GRE sequence number sent (oseq) */
	__u32 rx_seq;                  /* next GRE sequence number expected (iseq); 0: any */
	__u8 type;                     /* enum xt_type */
	__u8 ttl;                      /* TTL / hop limit; 0: inherit from the inner packet */
	__u8 tos;                      /* TOS / traffic class, unless XT_F_TOS_INHERIT */
	__u8 encap_limit;              /* with XT_F_ENCAP_LIMIT */
	__u16 mtu;                     /* overlay MTU (informational) */
	__u8 mac[6];                   /* overlay MAC: destination of decapsulated frames */
	__u8 peer_mac[6];              /* source MAC of decapsulated frames */
	__u8 mode;                     /* control plane only: the mode users gave */
	__u8 erspan_ver;               /* 1: type II, 2: type III */
	__be32 vni;                    /* VXLAN/Geneve: VNI << 8, as on the wire */
	__u32 erspan_index;            /* type II index, 20 bits */
	__u8 erspan_dir;               /* type III: 0 ingress, 1 egress */
	__u8 erspan_hwid;              /* type III: 6 bits */
	__u8 opts_len;                 /* Geneve option bytes (multiple of 4) */
	__u8 df_mode;                  /* control plane only: geneve/vxlan df unset|set|inherit */
	__u32 ageing;                  /* learned FDB entries expire after this many seconds */
	__u8 opts[XT_GENEVE_OPTS_MAX]; /* Geneve options as on the wire */
	char name[16];                 /* overlay name at creation */
};

/* Key of xt_decap: what a received outer packet is matched on. */
struct xt_decap_key {
	__u8 local[16];  /* outer destination (IPv4-mapped for IPv4) */
	__u8 remote[16]; /* outer source; all zero matches any (sit 6to4/ISATAP) */
	__be32 key;      /* GRE key as on the wire; 0 when absent */
	__be16 port;     /* UDP destination port; 0 for non-UDP types */
	__u8 proto;      /* outer protocol: 47 GRE, 4 IPIP, 41 IPv6, 137 MPLS */
	__u8 has_key;    /* 1 when the packet carries a GRE key */
};

/* Per-tunnel counters, per CPU (xt_tstats, index: xt_tunnel.id). */
struct xt_tun_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 rx_dropped;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 tx_dropped;
};

/* A FOU or GUE receive port (xt_fou), as `xtunnel fou add` sets it. */
struct xt_fou_key {
	__be16 port; /* UDP destination port */
	__u8 family; /* 4 or 6: the outer IP version it listens on */
	__u8 pad;
};

struct xt_fou_port {
	__u8 ipproto; /* FOU: protocol of the payload; 0 for GUE */
	__u8 gue;     /* 1: the payload starts with a GUE header */
	__u8 kind;    /* enum xt_udp_kind */
	__u8 pad;
};

/* Key of xt_fdb: a destination MAC behind one Ethernet tunnel. The
 * all-zero MAC is the flood list, one entry per remote (idx 0..7).
 */
struct xt_fdb_key {
	__u32 ifindex; /* overlay netdev */
	__u8 mac[6];
	__u16 idx;
};

struct xt_fdb_entry {
	__u8 remote[16];  /* outer destination (IPv4-mapped for IPv4) */
	__u64 updated_ns; /* learned: last seen (bpf_ktime_get_ns); static: 0 */
	__u8 learned;
	__u8 pad[7];
};

/* Key of xt_mirror: a netdev and direction whose frames are copied. */
struct xt_mirror_key {
	__u32 ifindex;
	__u32 egress; /* 0: ingress, 1: egress */
};

struct xt_mirror {
	__u32 target;  /* ERSPAN overlay netdev the copies are sent on */
	__u32 sample;  /* one frame in sample is copied; 0 or 1: every frame */
	__u64 packets; /* copied */
	__u64 skipped; /* not copied: sampling */
};

/* Token bucket for ICMP errors xtunnel sends (per CPU, xt_icmp_rl). */
struct xt_ratelimit {
	__u64 last_ns;
	__u64 tokens;
};

/* A netdev xtunnel is attached to (xt_ports, key: ifindex). The XDP
 * program reads gateway; the rest is for the control plane.
 */
struct xt_port {
	__u32 ifindex;
	__u8 xdp_mode; /* 1 native, 2 generic */
	__u8 gateway;  /* 1: route and forward in XDP (gateway mode) */
	__u8 pad[2];
};

/* Key of xt_routes (LPM): an inner destination prefix. IPv4 is stored
 * IPv4-mapped, its prefix length plus 96.
 */
struct xt_route_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* A route: into a point-to-point tunnel (remote all zero), or to one peer
 * of an external tunnel.
 */
struct xt_route {
	__u8 remote[16]; /* outer destination (IPv4-mapped for IPv4) */
	__u8 local[16];  /* outer source; all zero: the tunnel's */
	__be32 key;      /* GRE key as on the wire, with has_key */
	__u32 ifindex;   /* overlay netdev */
	__u8 has_key;
	__u8 ttl;  /* 0: the tunnel's */
	__u8 tos;  /* 0: the tunnel's */
	__u8 plen; /* the key's prefix length: exact-match checks (control plane) */
};

/* Key of xt_rpeers: what decap matches a peer of an external tunnel on. */
struct xt_peer_key {
	__u8 remote[16]; /* outer source */
	__be32 key;
	__u8 proto; /* as xt_decap_key.proto */
	__u8 has_key;
	__u16 pad;
};
