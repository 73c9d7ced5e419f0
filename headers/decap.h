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

/* What classify() found: the tunnel, and where the inner packet starts. */
struct decap_ctx {
	struct xt_tunnel *t;
	__u32 inner_off; /* offset of the inner L3 header in the frame */
	__u32 inner_len; /* its length per the outer header */
	__u32 gre_off;   /* offset of the GRE header in the frame; 0: no GRE */
	__u32 gre_len;   /* GRE header to the end of the outer payload */
	__be32 gre_seq;  /* GRE sequence number, with GRE_F_SEQ */
	__u16 gre_flags; /* GRE flags and version, host order */
	__be16 inner_proto;
	__u8 outer_ecn;
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

/* FOU and GUE: a configured UDP port says what follows. Sets dk->proto to
 * the payload's protocol.
 */
static __always_inline __u32 parse_udp_encap(struct cursor *c, struct xt_decap_key *dk, __u8 family,
					     __u32 room)
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

/* Finds the tunnel an outer packet (ethertype proto) belongs to. */
static __always_inline __u32 classify(struct cursor *c, void *data, __be16 proto,
				      struct decap_ctx *d)
{
	struct xt_decap_key dk = {};
	__u32 hdr_len, reason;
	void *l3 = NULL;

	if (proto == bpf_htons(ETH_P_IP))
		reason = outer_ipv4(c, d, &dk, &l3);
	else if (proto == bpf_htons(ETH_P_IPV6))
		reason = outer_ipv6(c, d, &dk, &l3);
	else
		reason = proto ? XT_R_PASS_NOT_IP : XT_R_PASS_TRUNCATED;
	if (reason != XT_R_DECAP)
		return reason;
	if (dk.proto == IPPROTO_UDP) {
		reason = parse_udp_encap(c, &dk, proto == bpf_htons(ETH_P_IP) ? 4 : 6,
					 d->inner_len - (__u32)(c->pos - l3));
		if (reason != XT_R_DECAP)
			return reason;
	}

	switch (dk.proto) {
	case IPPROTO_GRE:
		d->gre_off = c->pos - data;
		reason = parse_gre(c, &dk, d);
		if (reason != XT_R_DECAP)
			return reason;
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
	default:
		return XT_R_PASS_NOT_TUNNEL;
	}

	d->t = bpf_map_lookup_elem(&xt_decap, &dk);
	if (!d->t && dk.proto == IPPROTO_IPV6) {
		/* sit with remote any (6to4, ISATAP) takes every peer. */
		__builtin_memset(dk.remote, 0, sizeof(dk.remote));
		d->t = bpf_map_lookup_elem(&xt_decap, &dk);
	}
	if (!d->t)
		return XT_R_PASS_NO_TUNNEL;

	d->inner_off = c->pos - data;
	hdr_len = c->pos - l3;
	if (d->inner_len < hdr_len)
		return XT_R_PASS_TRUNCATED;
	d->inner_len -= hdr_len;
	if (d->gre_off)
		d->gre_len = d->inner_off - d->gre_off + d->inner_len;
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

/* Checks the inner header against the tunnel's mode and applies RFC 6040
 * ECN decapsulation.
 */
static __always_inline __u32 check_inner(struct cursor *c, struct decap_ctx *d)
{
	__u32 flags = d->t->flags;
	__u8 ecn;

	if (d->inner_proto == bpf_htons(ETH_P_IP) && (flags & XT_F_INNER4)) {
		struct iphdr *ip = cursor_pull(c, sizeof(*ip));

		if (!ip || ip->version != 4 || ip->ihl < 5 ||
		    bpf_ntohs(ip->tot_len) > d->inner_len || bpf_ntohs(ip->tot_len) < ip->ihl * 4)
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
	if (d->inner_proto == bpf_htons(ETH_P_IPV6) && (flags & XT_F_INNER6)) {
		struct ipv6hdr *ip6 = cursor_pull(c, sizeof(*ip6));

		if (!ip6 || ip6->version != 6 ||
		    sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > d->inner_len)
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

	st = xt_stats_of(t);
	if (st) {
		st->rx_packets++;
		st->rx_bytes += d->inner_len;
	}
	return bpf_redirect_map(&xt_devmap, t->peer_ifindex, 0);
}
