/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* XDP decapsulation: classify an outer packet, then strip it. */
#pragma once

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xtunnel.h"
#include "maps.h"
#include "parsing.h"
#include "gre.h"
#include "ipv6.h"
#include "csum.h"
#include "ecn.h"

#ifndef IPPROTO_MPLS
#define IPPROTO_MPLS 137
#endif
#define ETH_P_MPLS_UNICAST 0x8847
#ifndef ETH_P_ERSPAN2
#define ETH_P_ERSPAN2 0x22EB
#endif

/* What classify() found: the tunnel, and where the inner packet starts. */
struct decap_ctx {
	struct xt_decap_key dk;
	struct xt_tunnel *t; /* set by classify() itself, after the global stages */
	__u32 l3_off;        /* outer IP header */
	__u32 l4_off;        /* what follows it (and its extension headers) */
	__u8 family;         /* 4 or 6 */
	__u32 inner_off;     /* offset of the inner L3 header in the frame */
	__u32 inner_len;     /* its length per the outer header */
	__u32 gre_off;       /* offset of the GRE header in the frame; 0: no GRE */
	__u32 gre_len;       /* GRE header to the end of the outer payload */
	__be32 gre_seq;      /* GRE sequence number, with GRE_F_SEQ */
	__u16 gre_flags;     /* GRE flags and version, host order */
	__be16 inner_proto;  /* ethertype; ETH_P_TEB: an Ethernet frame */
	__u8 outer_ecn;
	__u8 udp_zero;    /* the outer UDP checksum is 0 */
	__u8 geneve_crit; /* Geneve C bit: critical options present */
	__u8 outer_src[16]
		__attribute__((aligned(8))); /* outer source: what FDB learning records */
	__u32 opt_off;                       /* Geneve options: offset in the frame and length */
	__u32 opt_len;
};

struct vxlan_hdr {
	__be32 flags; /* 0x08000000: I flag, the rest reserved */
	__be32 vni;   /* VNI << 8 */
};

struct geneve_hdr {
	__u8 ver_optlen; /* version (2 bits), option length in 4-byte words (6) */
	__u8 flags;      /* O (0x80), C (0x40) */
	__be16 proto;
	__be32 vni; /* VNI << 8 */
};

static __always_inline void v4_mapped(__u8 *dst, __be32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

/* Parses GRE after the outer header. Returns a reason, or XT_R_DECAP to go on.
 * d keeps the flags and the sequence number for check_gre(), which runs
 * once the tunnel matched.
 */
static __always_inline __u32 parse_gre(struct cursor *c, struct xt_decap_key *dk,
				       struct decap_ctx *d)
{
	struct gre_base *gre = cursor_pull(c, sizeof(*gre));
	__be32 *key, *seq;
	__u16 flags;

	if (!gre)
		return XT_R_PASS_TRUNCATED;
	flags = bpf_ntohs(gre->flags);
	if (flags & GRE_VERSION)
		return XT_R_PASS_GRE_VERSION;
	if (flags & (GRE_F_ROUTING | GRE_F_SSR))
		return XT_R_PASS_GRE_ROUTING;
	if ((flags & GRE_F_CSUM) && !cursor_pull(c, 4))
		return XT_R_PASS_TRUNCATED;
	if (flags & GRE_F_KEY) {
		key = cursor_pull(c, sizeof(*key));
		if (!key)
			return XT_R_PASS_TRUNCATED;
		dk->key = *key;
		dk->has_key = 1;
	}
	if (flags & GRE_F_SEQ) {
		seq = cursor_pull(c, sizeof(*seq));
		if (!seq)
			return XT_R_PASS_TRUNCATED;
		d->gre_seq = *seq;
	}
	d->inner_proto = gre->proto;
	d->gre_flags = flags;
	return XT_R_DECAP;
}

/* Parses an outer IPv4 header into dk; *l3 points at it. */
static __always_inline __u32 outer_ipv4(struct cursor *c, struct decap_ctx *d,
					struct xt_decap_key *dk, void **l3)
{
	struct iphdr *iph = cursor_pull(c, sizeof(*iph));

	if (!iph)
		return XT_R_PASS_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return XT_R_PASS_BAD_IHL;
	switch (iph->protocol) {
	case IPPROTO_GRE:
	case IPPROTO_IPIP:
	case IPPROTO_IPV6:
	case IPPROTO_MPLS:
	case IPPROTO_UDP:
		break;
	default:
		return XT_R_PASS_NOT_TUNNEL;
	}
	if (iph->ihl != 5)
		return XT_R_PASS_IP_OPTIONS;
	if (iph->frag_off & bpf_htons(0x3fff))
		return XT_R_PASS_FRAGMENT;
	d->inner_len = bpf_ntohs(iph->tot_len);
	if (d->inner_len < sizeof(*iph) || (void *)iph + d->inner_len > c->end)
		return XT_R_PASS_TRUNCATED;
	d->outer_ecn = iph->tos & ECN_MASK;
	v4_mapped(dk->local, iph->daddr);
	v4_mapped(dk->remote, iph->saddr);
	dk->proto = iph->protocol;
	*l3 = iph;
	return XT_R_DECAP;
}

/* Parses an outer IPv6 header and the extension headers a tunnel may
 * carry (hop-by-hop, destination options with the encapsulation limit).
 */
static __always_inline __u32 outer_ipv6(struct cursor *c, struct decap_ctx *d,
					struct xt_decap_key *dk, void **l3)
{
	struct ipv6hdr *ip6 = cursor_pull(c, sizeof(*ip6));
	struct ipv6_opt_hdr_ *opt;
	__u8 next;

	if (!ip6)
		return XT_R_PASS_TRUNCATED;
	if (ip6->version != 6)
		return XT_R_PASS_BAD_IHL;
	next = ip6->nexthdr;
#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_DSTOPTS)
			break;
		opt = cursor_pull(c, sizeof(*opt));
		if (!opt)
			return XT_R_PASS_TRUNCATED;
		next = opt->nexthdr;
		/* The rest of this header: (hdrlen + 1) * 8 - 2 bytes. */
		if (opt->hdrlen > 31)
			return XT_R_PASS_EXT_HEADERS;
		if (!cursor_pull(c, (__u32)opt->hdrlen * 8 + 6))
			return XT_R_PASS_TRUNCATED;
	}
	switch (next) {
	case IPPROTO_GRE:
	case IPPROTO_IPIP:
	case IPPROTO_IPV6:
	case IPPROTO_UDP:
		break;
	case IPPROTO_FRAGMENT:
		return XT_R_PASS_FRAGMENT;
	case IPPROTO_HOPOPTS:
	case IPPROTO_DSTOPTS:
	case IPPROTO_ROUTING:
		return XT_R_PASS_EXT_HEADERS;
	default:
		return XT_R_PASS_NOT_TUNNEL;
	}
	d->inner_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if ((void *)ip6 + d->inner_len > c->end)
		return XT_R_PASS_TRUNCATED;
	d->outer_ecn = (ip6->flow_lbl[0] >> 4) & ECN_MASK;
	__builtin_memcpy(dk->local, &ip6->daddr, 16);
	__builtin_memcpy(dk->remote, &ip6->saddr, 16);
	dk->proto = next;
	*l3 = ip6;
	return XT_R_DECAP;
}

/* VXLAN (RFC 7348): the I flag and nothing else, as the kernel wants it. */
static __always_inline __u32 parse_vxlan(struct cursor *c, struct xt_decap_key *dk,
					 struct decap_ctx *d)
{
	struct vxlan_hdr *vx = cursor_pull(c, sizeof(*vx));

	if (!vx)
		return XT_R_PASS_TRUNCATED;
	if (vx->flags != bpf_htonl(0x08000000) || (vx->vni & bpf_htonl(0xff)))
		return XT_R_PASS_VXLAN_FLAGS;
	dk->key = vx->vni;
	dk->has_key = 1;
	dk->proto = IPPROTO_UDP;
	d->inner_proto = bpf_htons(ETH_P_TEB);
	return XT_R_DECAP;
}

/* Geneve (RFC 8926): the fixed header here; options once the tunnel
 * matched (xt_geneve_opts).
 */
static __always_inline __u32 parse_geneve(struct cursor *c, struct xt_decap_key *dk,
					  struct decap_ctx *d)
{
	struct geneve_hdr *g = cursor_pull(c, sizeof(*g));
	__u32 optlen;

	if (!g)
		return XT_R_PASS_TRUNCATED;
	if (g->ver_optlen >> 6)
		return XT_R_PASS_GENEVE_VERSION;
	if (g->flags & 0x80)
		return XT_R_PASS_GENEVE_OAM;
	optlen = (__u32)(g->ver_optlen & 0x3f) * 4;
	if (!cursor_pull(c, optlen))
		return XT_R_PASS_TRUNCATED;
	d->opt_len = optlen;
	d->geneve_crit = g->flags & 0x40;
	dk->key = g->vni & bpf_htonl(0xffffff00);
	dk->has_key = 1;
	dk->proto = IPPROTO_UDP;
	d->inner_proto = g->proto;
	return XT_R_DECAP;
}

/* UDP encapsulations: a configured port says what follows (xt_fou). FOU
 * and GUE set dk->proto to the payload's protocol; VXLAN and Geneve match
 * on protocol UDP, port and VNI.
 */
static __always_inline __u32 parse_udp_encap(struct cursor *c, struct xt_decap_key *dk,
					     struct decap_ctx *d, __u8 family, __u32 room)
{
	struct udphdr *uh = cursor_pull(c, sizeof(*uh));
	struct xt_fou_key fk = { .family = family };
	struct xt_fou_port *fp;
	__u8 *gue;

	/* room: the outer packet's bytes from the UDP header on. */
	if (!uh || bpf_ntohs(uh->len) < sizeof(*uh) || bpf_ntohs(uh->len) > room)
		return XT_R_PASS_TRUNCATED;
	fk.port = uh->dest;
	fp = bpf_map_lookup_elem(&xt_fou, &fk);
	if (!fp)
		return XT_R_PASS_NOT_TUNNEL;
	d->udp_zero = !uh->check;
	if (fp->kind == XT_UDP_VXLAN) {
		dk->port = uh->dest;
		return parse_vxlan(c, dk, d);
	}
	if (fp->kind == XT_UDP_GENEVE) {
		dk->port = uh->dest;
		return parse_geneve(c, dk, d);
	}
	if (!fp->gue) {
		dk->proto = fp->ipproto;
		return XT_R_DECAP;
	}
	gue = c->pos;
	if ((void *)(gue + 1) > c->end)
		return XT_R_PASS_TRUNCATED;
	switch (gue[0] >> 6) {
	case 0: /* header: version 0, C, hlen; protocol; flags */
		if (!cursor_pull(c, 4))
			return XT_R_PASS_TRUNCATED;
		if (gue[0] & 0x20)
			return XT_R_PASS_GUE_CONTROL;
		if ((gue[0] & 0x1f) && !cursor_pull(c, (__u32)(gue[0] & 0x1f) * 4))
			return XT_R_PASS_TRUNCATED;
		dk->proto = gue[1];
		return XT_R_DECAP;
	case 1: /* version 1: the IP header itself, no GUE header */
		if ((gue[0] >> 4) == 4) {
			dk->proto = IPPROTO_IPIP;
			return XT_R_DECAP;
		}
		if ((gue[0] >> 4) == 6) {
			dk->proto = IPPROTO_IPV6;
			return XT_R_DECAP;
		}
	}
	return XT_R_PASS_GUE_VERSION;
}

/* ERSPAN type II (version 1, 8 bytes) or type III (version 2, 12 bytes,
 * and an 8-byte platform subheader when its O bit is set) after GRE. The
 * session ID is what the tunnel is matched on, as its key.
 */
static __always_inline __u32 parse_erspan(struct cursor *c, struct xt_decap_key *dk,
					  struct decap_ctx *d)
{
	__u8 *h = c->pos;
	__u32 ver, len;

	/* Type I (erspan_ver 0) has no ERSPAN header: behind 0x88be, a GRE
	 * header without C, K and S is followed by the frame itself (Linux:
	 * gre_parse_header's 4-byte header), whatever its first byte says.
	 */
	if (d->inner_proto == bpf_htons(ETH_P_ERSPAN) &&
	    !(d->gre_flags & (GRE_F_CSUM | GRE_F_KEY | GRE_F_SEQ)))
		return XT_R_PASS_ERSPAN_VERSION;
	if ((void *)(h + 1) > c->end)
		return XT_R_PASS_TRUNCATED;
	ver = h[0] >> 4;
	if (d->inner_proto == bpf_htons(ETH_P_ERSPAN) && ver == 1)
		len = 8;
	else if (d->inner_proto == bpf_htons(ETH_P_ERSPAN2) && ver == 2)
		len = 12;
	else
		return XT_R_PASS_ERSPAN_VERSION;
	h = cursor_pull(c, len);
	if (!h)
		return XT_R_PASS_TRUNCATED;
	if (ver == 2 && (h[11] & 1) && !cursor_pull(c, 8))
		return XT_R_PASS_TRUNCATED;
	dk->key = bpf_htonl(((__u32)(h[2] & 0x03) << 8) | h[3]);
	dk->has_key = 1;
	dk->port = bpf_htons(ETH_P_ERSPAN);
	d->inner_proto = bpf_htons(ETH_P_TEB);
	return XT_R_DECAP;
}

/* Stage one of classify(): Ethernet and the outer IP header(s). A global
 * function, verified once: the stages' paths add up rather than multiply.
 */
__noinline int xt_outer(struct xdp_md *ctx, struct decap_ctx *d)
{
	void *data = (void *)(long)ctx->data;
	struct cursor c = { .pos = data, .end = (void *)(long)ctx->data_end };
	void *l3 = NULL;
	__be16 proto;
	__u32 reason;

	if (!d)
		return XT_R_PASS_TRUNCATED;
	proto = parse_eth(&c);
	if (proto == bpf_htons(ETH_P_IP))
		reason = outer_ipv4(&c, d, &d->dk, &l3);
	else if (proto == bpf_htons(ETH_P_IPV6))
		reason = outer_ipv6(&c, d, &d->dk, &l3);
	else
		reason = proto ? XT_R_PASS_NOT_IP : XT_R_PASS_TRUNCATED;
	if (reason != XT_R_DECAP)
		return reason;
	d->family = proto == bpf_htons(ETH_P_IP) ? 4 : 6;
	d->l3_off = l3 - data;
	d->l4_off = c.pos - data;
	return XT_R_DECAP;
}

/* Stage two of classify(): what follows the outer IP header, up to the
 * inner packet. Fills the rest of d->dk.
 */
__noinline int xt_l4(struct xdp_md *ctx, struct decap_ctx *d)
{
	void *data = (void *)(long)ctx->data;
	struct cursor c = { .end = (void *)(long)ctx->data_end };
	__u32 hdr_len, reason;

	if (!d || d->l4_off > 2048 || d->l3_off > d->l4_off)
		return XT_R_PASS_TRUNCATED;
	c.pos = data + d->l4_off;
	if (d->dk.proto == IPPROTO_UDP) {
		if (d->inner_len < d->l4_off - d->l3_off)
			return XT_R_PASS_TRUNCATED;
		reason = parse_udp_encap(&c, &d->dk, d, d->family,
					 d->inner_len - (d->l4_off - d->l3_off));
		if (reason != XT_R_DECAP)
			return reason;
		/* Geneve options follow the UDP and Geneve headers. */
		d->opt_off = d->l4_off + sizeof(struct udphdr) + sizeof(struct geneve_hdr);
	}

	switch (d->dk.proto) {
	case IPPROTO_GRE:
		d->gre_off = c.pos - data;
		reason = parse_gre(&c, &d->dk, d);
		if (reason != XT_R_DECAP)
			return reason;
		/* gretap and ERSPAN tunnels are apart from gre ones: the GRE
		 * protocol is part of the key, in its port field.
		 */
		if (d->inner_proto == bpf_htons(ETH_P_TEB))
			d->dk.port = bpf_htons(ETH_P_TEB);
		else if (d->inner_proto == bpf_htons(ETH_P_ERSPAN) ||
			 d->inner_proto == bpf_htons(ETH_P_ERSPAN2)) {
			reason = parse_erspan(&c, &d->dk, d);
			if (reason != XT_R_DECAP)
				return reason;
		}
		break;
	case IPPROTO_IPIP:
		d->inner_proto = bpf_htons(ETH_P_IP);
		break;
	case IPPROTO_IPV6:
		d->inner_proto = bpf_htons(ETH_P_IPV6);
		break;
	case IPPROTO_MPLS:
		d->inner_proto = bpf_htons(ETH_P_MPLS_UNICAST);
		break;
	case IPPROTO_UDP: /* VXLAN, Geneve: inner_proto is set */
		break;
	default:
		return XT_R_PASS_NOT_TUNNEL;
	}

	__builtin_memcpy(d->outer_src, d->dk.remote, sizeof(d->outer_src));
	d->inner_off = c.pos - data;
	hdr_len = d->inner_off - d->l3_off;
	if (d->inner_len < hdr_len)
		return XT_R_PASS_TRUNCATED;
	d->inner_len -= hdr_len;
	if (d->gre_off)
		d->gre_len = d->inner_off - d->gre_off + d->inner_len;
	return XT_R_DECAP;
}

/* Finds the tunnel an outer packet belongs to, and where its inner packet
 * starts.
 */
static __always_inline __u32 classify(struct xdp_md *ctx, struct decap_ctx *d)
{
	__u32 reason;

	reason = xt_outer(ctx, d);
	if (reason != XT_R_DECAP)
		return reason;
	reason = xt_l4(ctx, d);
	if (reason != XT_R_DECAP)
		return reason;
	d->t = bpf_map_lookup_elem(&xt_decap, &d->dk);
	if (!d->t && (d->dk.proto == IPPROTO_IPV6 || d->dk.proto == IPPROTO_UDP)) {
		/* sit with remote any (6to4, ISATAP) and VXLAN/Geneve without a
		 * fixed remote take every peer.
		 */
		__builtin_memset(d->dk.remote, 0, sizeof(d->dk.remote));
		d->t = bpf_map_lookup_elem(&xt_decap, &d->dk);
	}
	if (!d->t) {
		/* A peer of an external tunnel: its routes say which. */
		struct xt_peer_key pk = { .key = d->dk.key,
					  .proto = d->dk.proto,
					  .has_key = d->dk.has_key };
		__u32 *ifindex;

		__builtin_memcpy(pk.remote, d->outer_src, 16);
		ifindex = bpf_map_lookup_elem(&xt_rpeers, &pk);
		if (ifindex)
			d->t = bpf_map_lookup_elem(&xt_encap, ifindex);
	}
	if (!d->t)
		return XT_R_PASS_NO_TUNNEL;
	return XT_R_DECAP;
}

/* Verifies the GRE checksum over len bytes from off, the GRE header and all
 * that follows it to the end of the outer packet's payload (trailing
 * Ethernet padding is not part of it). Returns 0 when it is right, 1 when it
 * is wrong, -1 when the packet is longer than CSUM_PKT_MAX (or off is out of
 * reach) and it was not verified.
 *
 * A global function: the verifier checks it once, not once per path that
 * reaches it through the parsers.
 */
__noinline int xt_gre_csum_verify(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 sum;

	/* Headers before GRE are far shorter; the bound keeps the packet
	 * offsets below what the verifier tracks (MAX_PACKET_OFF).
	 */
	if (off > 4096)
		return -1;
	if (csum_pkt_add(data + off, len, data_end, &sum))
		return -1;
	return csum_fold(sum) ? 1 : 0;
}

/* GRE checksum and sequence number checks once the tunnel matched, as
 * ip_tunnel_rcv() / __ip6_tnl_rcv() make them after gre_parse_header().
 * Returns XT_R_DECAP to go on, a drop reason, or XT_R_PASS_GRE_CSUM_LONG.
 */
static __always_inline __u32 check_gre(struct xdp_md *ctx, struct decap_ctx *d)
{
	struct xt_tunnel *t = d->t;
	__u32 flags = t->flags;
	__u32 seq;
	int bad;

	if (!d->gre_off)
		return XT_R_DECAP;
	/* The C bit must be there exactly when the tunnel has icsum: Linux
	 * drops (rx_crc_errors) a packet with a checksum, even a right one,
	 * on a tunnel without icsum, and one without on a tunnel with icsum.
	 */
	if (!(d->gre_flags & GRE_F_CSUM) != !(flags & XT_F_ICSUM))
		return XT_R_DROP_GRE_CSUM;
	if (d->gre_flags & GRE_F_CSUM) {
		bad = xt_gre_csum_verify(ctx, d->gre_off, d->gre_len);
		if (bad < 0)
			return XT_R_PASS_GRE_CSUM_LONG;
		if (bad)
			return XT_R_DROP_GRE_CSUM;
	}
	/* iseq: in order or newer; i_seqno 0 means no packet yet. Without
	 * iseq a sequence number is accepted and ignored.
	 */
	if (flags & XT_F_ISEQ) {
		if (!(d->gre_flags & GRE_F_SEQ))
			return XT_R_DROP_GRE_SEQ;
		seq = bpf_ntohl(d->gre_seq);
		if (t->rx_seq && (__s32)(seq - t->rx_seq) < 0)
			return XT_R_DROP_GRE_SEQ;
		/* A map value shared by all CPUs; like the kernel's i_seqno,
		 * unlocked: racing packets may both pass.
		 */
		t->rx_seq = seq + 1;
	}
	return XT_R_DECAP;
}

/* Walks the Geneve options in [off, off + len) of the frame: each must
 * fit, and none may be critical, since xtunnel knows no option (RFC 8926
 * 3.5: a packet with an unknown critical option is not delivered).
 * A global function: verified once.
 */
__noinline int xt_geneve_opts(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 stop = off + len;
	__u8 *o;

	if (off > 1024 || len > 252)
		return XT_R_DROP_GENEVE_OPTLEN;
	for (int i = 0; i < 63; i++) {
		if (off >= stop)
			break;
		if (off > 1280)
			return XT_R_DROP_GENEVE_OPTLEN;
		o = data + off;
		if ((void *)(o + 4) > data_end)
			return XT_R_DROP_GENEVE_OPTLEN;
		off += 4 + (__u32)(o[3] & 0x1f) * 4;
		if (off > stop)
			return XT_R_DROP_GENEVE_OPTLEN;
		if (o[2] & 0x80)
			return XT_R_DROP_GENEVE_CRITICAL;
	}
	return XT_R_DECAP;
}

/* UDP tunnel checks once the tunnel matched: zero checksums over IPv6
 * (RFC 6935/6936: only where allowed) and Geneve options.
 */
static __always_inline __u32 check_udp(struct xdp_md *ctx, struct decap_ctx *d)
{
	__u32 flags = d->t->flags;
	__u32 reason;

	if (!(flags & (XT_F_VXLAN | XT_F_GENEVE)))
		return XT_R_DECAP;
	if (d->udp_zero && (flags & XT_F_OUTER6) && !(flags & XT_F_UDP_ZERO_RX))
		return XT_R_DROP_UDP_ZERO_CSUM;
	if (!(flags & XT_F_GENEVE))
		return XT_R_DECAP;
	if (d->opt_len) {
		reason = xt_geneve_opts(ctx, d->opt_off, d->opt_len);
		if (reason != XT_R_DECAP)
			return reason;
	}
	/* The C bit says a critical option is there, even if none is marked. */
	if (d->geneve_crit)
		return XT_R_DROP_GENEVE_CRITICAL;
	return XT_R_DECAP;
}

/* Records that mac lives behind remote on t (FDB learning), unless a
 * static entry says otherwise. A learned entry seen again from the same
 * remote is refreshed at most once a second.
 */
static __always_inline void fdb_learn(const struct xt_tunnel *t, const __u8 *mac,
				      const __u8 *remote)
{
	struct xt_fdb_key k = { .ifindex = t->ifindex };
	struct xt_fdb_entry *e, n = {};
	__u64 now;

	/* Group source MACs are invalid; the all-zero MAC is the flood list. */
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return;
	__builtin_memcpy(k.mac, mac, 6);
	now = bpf_ktime_get_ns();
	e = bpf_map_lookup_elem(&xt_fdb, &k);
	if (e) {
		if (!e->learned)
			return;
		if (*(__u64 *)e->remote == *(__u64 *)remote &&
		    *(__u64 *)(e->remote + 8) == *(__u64 *)(remote + 8)) {
			if (now - e->updated_ns >= 1000000000ULL)
				e->updated_ns = now;
			return;
		}
	}
	__builtin_memcpy(n.remote, remote, 16);
	n.updated_ns = now;
	n.learned = 1;
	bpf_map_update_elem(&xt_fdb, &k, &n, BPF_ANY);
}

/* Checks an inner IP header (ethertype proto, len bytes from the cursor
 * on) and applies RFC 6040 ECN decapsulation. Returns XT_R_DECAP, a drop
 * reason, or XT_R_DROP_INNER_PROTO when proto is not IP.
 */
static __always_inline __u32 inner_ip(struct cursor *c, struct decap_ctx *d, __be16 proto,
				      __u32 len)
{
	__u8 ecn;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor_pull(c, sizeof(*ip));

		if (!ip || ip->version != 4 || ip->ihl < 5 || bpf_ntohs(ip->tot_len) > len ||
		    bpf_ntohs(ip->tot_len) < ip->ihl * 4)
			return XT_R_DROP_INNER_TRUNC;
		ecn = ip->tos & ECN_MASK;
		if (d->outer_ecn == ECN_CE && ecn != ECN_CE) {
			__be16 old = *(__be16 *)ip;

			if (ecn == ECN_NOT_ECT)
				return XT_R_DROP_ECN;
			ip->tos |= ECN_CE;
			ip->check = csum_replace2(ip->check, old, *(__be16 *)ip);
		}
		return XT_R_DECAP;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor_pull(c, sizeof(*ip6));

		if (!ip6 || ip6->version != 6 || sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > len)
			return XT_R_DROP_INNER_TRUNC;
		/* Traffic class straddles the first two bytes; ECN is bits 4-5 of byte 1. */
		ecn = (ip6->flow_lbl[0] >> 4) & ECN_MASK;
		if (d->outer_ecn == ECN_CE && ecn != ECN_CE) {
			if (ecn == ECN_NOT_ECT)
				return XT_R_DROP_ECN;
			ip6->flow_lbl[0] |= ECN_CE << 4;
		}
		return XT_R_DECAP;
	}
	return XT_R_DROP_INNER_PROTO;
}

/* Checks the inner packet against the tunnel's mode and applies RFC 6040
 * ECN decapsulation. An Ethernet tunnel takes any frame; ECN applies to
 * IP right behind its Ethernet header.
 */
static __always_inline __u32 check_inner(struct cursor *c, struct decap_ctx *d)
{
	__u32 flags = d->t->flags;
	struct ethhdr *eth;

	if (flags & XT_F_ETH) {
		if (d->inner_proto != bpf_htons(ETH_P_TEB))
			return XT_R_DROP_INNER_PROTO;
		eth = cursor_pull(c, sizeof(*eth));
		if (!eth || d->inner_len < sizeof(*eth))
			return XT_R_DROP_INNER_TRUNC;
		if (flags & XT_F_LEARN)
			fdb_learn(d->t, eth->h_source, d->outer_src);
		if (eth->h_proto != bpf_htons(ETH_P_IP) && eth->h_proto != bpf_htons(ETH_P_IPV6))
			return XT_R_DECAP;
		return inner_ip(c, d, eth->h_proto, d->inner_len - sizeof(*eth));
	}
	if ((d->inner_proto == bpf_htons(ETH_P_IP) && (flags & XT_F_INNER4)) ||
	    (d->inner_proto == bpf_htons(ETH_P_IPV6) && (flags & XT_F_INNER6)))
		return inner_ip(c, d, d->inner_proto, d->inner_len);
	if (d->inner_proto == bpf_htons(ETH_P_MPLS_UNICAST) && (flags & XT_F_INNER_MPLS)) {
		/* One label stack entry at least; MPLS carries no ECN field we map. */
		if (!cursor_pull(c, 4) || d->inner_len < 4)
			return XT_R_DROP_INNER_TRUNC;
		return XT_R_DECAP;
	}
	return XT_R_DROP_INNER_PROTO;
}

/* Replaces everything before the inner header with a fresh Ethernet header
 * addressed to the overlay netdev, and redirects to its veth peer.
 */
static __always_inline int decap_redirect(struct xdp_md *ctx, struct decap_ctx *d)
{
	struct xt_tunnel *t = d->t;
	struct xt_tun_stats *st;
	struct ethhdr *eth;
	void *data, *data_end;

	if (t->flags & XT_F_ETH) {
		/* The inner frame goes on as it came, MACs and all. */
		if (bpf_xdp_adjust_head(ctx, (int)d->inner_off))
			return -1;
		goto out;
	}
	if (bpf_xdp_adjust_head(ctx, (int)d->inner_off - (int)sizeof(*eth)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, t->mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, t->peer_mac, ETH_ALEN);
	eth->h_proto = d->inner_proto;
out:
	st = xt_stats_of(t);
	if (st) {
		st->rx_packets++;
		st->rx_bytes += d->inner_len;
	}
	return bpf_redirect_map(&xt_devmap, t->peer_ifindex, 0);
}
