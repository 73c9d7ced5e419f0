/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* TC encapsulation: outer header builders, then the skb operation. */
#pragma once

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xtunnel.h"
#include "maps.h"
#include "parsing.h"
#include "gre.h"
#include "ipv6.h"
#include "csum.h"
#include "skbcsum.h"
#include "ecn.h"

#ifndef IPPROTO_MPLS
#define IPPROTO_MPLS 137
#endif
#define ETH_P_MPLS_UNICAST 0x8847
#define IP_DF 0x4000

/* What the outer header inherits from the inner packet. */
struct inner_info {
	__be16 proto; /* ethertype */
	__u8 tos;
	__u8 ttl;
	__u8 df;
	__u8 family; /* XT_F_INNER4, XT_F_INNER6 or XT_F_INNER_MPLS */
	__be32 flowlabel;
	__u8 daddr6[16]; /* inner IPv6 destination (sit 6to4 / ISATAP) */
	__u32 len;       /* L3 length */
};

/* Room for the largest outer header: IPv6, encapsulation limit, UDP, GUE,
 * GRE with checksum, key and sequence number (76 bytes). Builders fill it
 * from the front.
 */
#define OUTER_MAX 80

static __always_inline __u32 parse_inner(struct __sk_buff *skb, struct inner_info *in)
{
	__u32 need = sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
	struct cursor c;
	struct ethhdr *eth;

	/* Headers may sit outside the linear part; a short packet stays short. */
	if ((void *)(long)skb->data + need > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, need);
	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	eth = cursor_pull(&c, sizeof(*eth));
	if (!eth)
		return XT_R_TX_TRUNCATED;
	in->proto = eth->h_proto;
	in->len = skb->len - sizeof(*eth);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor_pull(&c, sizeof(*ip));

		if (!ip)
			return XT_R_TX_TRUNCATED;
		in->family = XT_F_INNER4;
		in->tos = ip->tos;
		in->ttl = ip->ttl;
		in->df = !!(ip->frag_off & bpf_htons(IP_DF));
		return XT_R_ENCAP;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor_pull(&c, sizeof(*ip6));

		if (!ip6)
			return XT_R_TX_TRUNCATED;
		in->family = XT_F_INNER6;
		in->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
		in->ttl = ip6->hop_limit;
		in->flowlabel = *(__be32 *)ip6 & bpf_htonl(0x000fffff);
		__builtin_memcpy(in->daddr6, &ip6->daddr, 16);
		return XT_R_ENCAP;
	}
	if (eth->h_proto == bpf_htons(ETH_P_MPLS_UNICAST)) {
		__u8 *lse = cursor_pull(&c, 4);

		if (!lse)
			return XT_R_TX_TRUNCATED;
		in->family = XT_F_INNER_MPLS;
		in->ttl = lse[3];
		return XT_R_ENCAP;
	}
	return XT_R_TX_NOT_IP;
}

/* The protocol of what follows the outer IP header, or the UDP
 * encapsulation (FOU: its port says it; GUE: its header).
 */
static __always_inline __u8 payload_proto(const struct xt_tunnel *t, const struct inner_info *in)
{
	if (t->flags & XT_F_GRE)
		return IPPROTO_GRE;
	if (in->family == XT_F_INNER4)
		return IPPROTO_IPIP;
	if (in->family == XT_F_INNER6)
		return IPPROTO_IPV6;
	return IPPROTO_MPLS;
}

/* The outer IP header's protocol. */
static __always_inline __u8 outer_proto(const struct xt_tunnel *t, const struct inner_info *in)
{
	if (t->flags & (XT_F_FOU | XT_F_GUE))
		return IPPROTO_UDP;
	return payload_proto(t, in);
}

/* Bytes of GRE header t sends. */
static __always_inline __u32 gre_len(const struct xt_tunnel *t)
{
	if (!(t->flags & XT_F_GRE))
		return 0;
	return sizeof(struct gre_base) + ((t->flags & XT_F_OCSUM) ? 4 : 0) +
	       ((t->flags & XT_F_OKEY) ? 4 : 0) + ((t->flags & XT_F_OSEQ) ? 4 : 0);
}

/* Bytes of outer header for tunnel t. */
static __always_inline __u32 outer_len(const struct xt_tunnel *t)
{
	__u32 n = (t->flags & XT_F_OUTER6) ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);

	if (t->flags & XT_F_ENCAP_LIMIT)
		n += sizeof(struct ipv6_encap_limit_hdr);
	if (t->flags & (XT_F_FOU | XT_F_GUE))
		n += sizeof(struct udphdr);
	if (t->flags & XT_F_GUE)
		n += 4;
	return n + gre_len(t);
}

/* UDP source port for FOU/GUE: fixed, or the inner flow's hash scaled into
 * the ephemeral range 32768-60999 (multiply-shift: no modulo bias), so one
 * flow keeps one port and flows spread over RSS queues and ECMP paths.
 */
static __always_inline __be16 encap_sport(const struct xt_tunnel *t, __u32 hash)
{
	if (t->encap_sport)
		return t->encap_sport;
	return bpf_htons(32768 + (__u16)(((__u64)hash * (60999 - 32768 + 1)) >> 32));
}

/* UDP header, and the GUE header (version 0, no flags) when t uses GUE. */
static __always_inline __u32 build_udp(void *p, const struct xt_tunnel *t,
				       const struct inner_info *in, __u32 len, __u32 hash)
{
	struct udphdr *uh = p;
	__u8 *gue = (__u8 *)(uh + 1);

	uh->source = encap_sport(t, hash);
	uh->dest = t->encap_dport;
	uh->len = bpf_htons(len);
	uh->check = 0; /* IPv4: no checksum (noencap-csum) */
	if (!(t->flags & XT_F_GUE))
		return sizeof(*uh);
	gue[0] = 0;
	gue[1] = payload_proto(t, in);
	gue[2] = 0;
	gue[3] = 0;
	return sizeof(*uh) + 4;
}

/* The remote of a sit tunnel with remote any: 6to4 (2002:V4ADDR::/48,
 * RFC 3056) or ISATAP (interface identifier ::0:5efe:V4ADDR, or
 * ::200:5efe:V4ADDR, RFC 5214). Returns 0 if the destination has none.
 */
static __always_inline __be32 sit_remote(const struct xt_tunnel *t, const struct inner_info *in)
{
	__be32 v4;

	if (in->family != XT_F_INNER6)
		return 0;
	if ((t->flags & XT_F_REMOTE_6TO4) && in->daddr6[0] == 0x20 && in->daddr6[1] == 0x02) {
		__builtin_memcpy(&v4, &in->daddr6[2], 4);
		return v4;
	}
	if ((t->flags & XT_F_REMOTE_ISATAP) && (in->daddr6[8] & ~0x02) == 0 && in->daddr6[9] == 0 &&
	    in->daddr6[10] == 0x5e && in->daddr6[11] == 0xfe) {
		__builtin_memcpy(&v4, &in->daddr6[12], 4);
		return v4;
	}
	return 0;
}

static __always_inline __u8 outer_tos(const struct xt_tunnel *t, const struct inner_info *in)
{
	__u8 tos = (t->flags & XT_F_TOS_INHERIT) ? in->tos : t->tos;

	return ecn_encap(tos, in->tos);
}

static __always_inline void build_ipv4(struct iphdr *h, const struct xt_tunnel *t,
				       const struct inner_info *in, __u32 olen, __be32 daddr)
{
	int df = (t->flags & XT_F_DF) || (in->df && !(t->flags & XT_F_IGNORE_DF));

	h->version = 4;
	h->ihl = 5;
	h->tos = outer_tos(t, in);
	h->tot_len = bpf_htons(in->len + olen);
	h->frag_off = df ? bpf_htons(IP_DF) : 0;
	h->id = df ? 0 : (__be16)bpf_get_prandom_u32();
	h->ttl = t->ttl ? t->ttl : in->ttl;
	h->protocol = outer_proto(t, in);
	__builtin_memcpy(&h->saddr, t->local + 12, 4);
	h->daddr = daddr;
	h->check = 0;
	h->check = ipv4_csum(h);
}

static __always_inline void build_ipv6(struct ipv6hdr *h, const struct xt_tunnel *t,
				       const struct inner_info *in, __u32 olen)
{
	__u8 tc = outer_tos(t, in);
	__be32 flow = (t->flags & XT_F_FLOW_INHERIT) ? in->flowlabel : t->flowlabel;

	*(__be32 *)h = bpf_htonl(0x60000000 | ((__u32)tc << 20)) | flow;
	h->payload_len = bpf_htons(in->len + olen - sizeof(*h));
	h->nexthdr = (t->flags & XT_F_ENCAP_LIMIT) ? IPPROTO_DSTOPTS : outer_proto(t, in);
	h->hop_limit = t->ttl ? t->ttl : in->ttl;
	__builtin_memcpy(&h->saddr, t->local, 16);
	__builtin_memcpy(&h->daddr, t->remote, 16);
}

static __always_inline void build_encap_limit(struct ipv6_encap_limit_hdr *h,
					      const struct xt_tunnel *t,
					      const struct inner_info *in)
{
	h->nexthdr = outer_proto(t, in);
	h->hdrlen = 0;
	h->opt_type = IPV6_TLV_TNL_ENCAP_LIMIT;
	h->opt_len = 1;
	h->limit = t->encap_limit;
	h->pad_type = IPV6_TLV_PADN;
	h->pad_len = 1;
	h->pad = 0;
}

/* GRE: flags and protocol, then checksum (filled in later), key, sequence
 * number, each when t sends it.
 */
static __always_inline void build_gre(__u8 *p, const struct xt_tunnel *t,
				      const struct inner_info *in, __u32 seq)
{
	struct gre_base *g = (struct gre_base *)p;
	__u16 flags = 0;
	__u32 off = sizeof(*g);

	if (t->flags & XT_F_OCSUM) {
		flags |= GRE_F_CSUM;
		*(__be32 *)(p + off) = 0;
		off += 4;
	}
	if (t->flags & XT_F_OKEY) {
		flags |= GRE_F_KEY;
		*(__be32 *)(p + off) = t->okey;
		off += 4;
	}
	if (t->flags & XT_F_OSEQ) {
		flags |= GRE_F_SEQ;
		*(__be32 *)(p + off) = bpf_htonl(seq);
	}
	g->flags = bpf_htons(flags);
	g->proto = in->proto;
}

/* Builds the outer headers of t into buf. Returns their length, or 0 when
 * the packet has no remote (sit 6to4/ISATAP).
 */
static __always_inline __u32 build_outer(__u8 *buf, const struct xt_tunnel *t,
					 const struct inner_info *in, __u32 hash, __u32 seq)
{
	__u32 olen = outer_len(t), off;
	__be32 daddr;

	if (t->flags & XT_F_OUTER6) {
		build_ipv6((struct ipv6hdr *)buf, t, in, olen);
		off = sizeof(struct ipv6hdr);
		if (t->flags & XT_F_ENCAP_LIMIT) {
			build_encap_limit((struct ipv6_encap_limit_hdr *)(buf + off), t, in);
			off += sizeof(struct ipv6_encap_limit_hdr);
		}
	} else {
		if (t->flags & (XT_F_REMOTE_6TO4 | XT_F_REMOTE_ISATAP))
			daddr = sit_remote(t, in);
		else
			__builtin_memcpy(&daddr, t->remote + 12, 4);
		if (!daddr)
			return 0;
		build_ipv4((struct iphdr *)buf, t, in, olen, daddr);
		off = sizeof(struct iphdr);
	}
	if (t->flags & (XT_F_FOU | XT_F_GUE))
		off += build_udp(buf + off, t, in, in->len + olen - off, hash);
	if (t->flags & XT_F_GRE && off <= OUTER_MAX - 16)
		build_gre(buf + off, t, in, seq);
	return olen;
}

/* Inserts the outer headers after the Ethernet header. */
#ifdef XT_SLOW_TX
/* Fills the GRE checksum (RFC 2784: over the GRE header and payload) and
 * the UDP checksum (with its pseudo-header) of a packet encap() built.
 * Only the slow TX path asks for them: there the skb is one packet whose
 * inner checksums the stack has completed.
 */
static __always_inline __u32 fill_checksums(struct __sk_buff *skb, const struct xt_tunnel *t,
					    __u32 olen)
{
	__u32 l3 = (t->flags & XT_F_OUTER6) ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 udp_off, gre_off, len = skb->len;
	__u64 sum = 0;
	__sum16 check;

	if (t->flags & XT_F_ENCAP_LIMIT)
		l3 += sizeof(struct ipv6_encap_limit_hdr);
	gre_off = sizeof(struct ethhdr) + olen - gre_len(t);
	if ((t->flags & XT_F_OCSUM) && len > gre_off) {
		if (skb_csum_add(skb, gre_off, len - gre_off, &sum))
			return XT_R_TX_CSUM;
		check = csum_fold64(sum);
		if (bpf_skb_store_bytes(skb, gre_off + 4, &check, sizeof(check), 0))
			return XT_R_TX_ADJUST;
	}
	udp_off = sizeof(struct ethhdr) + l3;
	if ((t->flags & XT_F_UDP_CSUM) && (t->flags & (XT_F_FOU | XT_F_GUE)) && len > udp_off) {
		struct {
			__u8 addrs[32];
			__be32 len;
			__be32 proto;
		} ph = {};
		__u32 alen = (t->flags & XT_F_OUTER6) ? 32 : 8;
		__u32 aoff = sizeof(struct ethhdr) + ((t->flags & XT_F_OUTER6) ? 8 : 12);
		__s64 s;

		if (bpf_skb_load_bytes(skb, aoff, ph.addrs, alen & 0x3f))
			return XT_R_TX_ADJUST;
		ph.len = bpf_htonl(len - udp_off);
		ph.proto = bpf_htonl(IPPROTO_UDP);
		s = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
		if (s < 0)
			return XT_R_TX_CSUM;
		sum = (__u32)s;
		if (skb_csum_add(skb, udp_off, len - udp_off, &sum))
			return XT_R_TX_CSUM;
		check = csum_fold64(sum);
		if (!check)
			check = 0xffff; /* 0 means "no checksum" in UDP */
		if (bpf_skb_store_bytes(skb, udp_off + 6, &check, sizeof(check), 0))
			return XT_R_TX_ADJUST;
	}
	return XT_R_ENCAP;
}
#endif

static __always_inline __u32 encap(struct __sk_buff *skb, struct xt_tunnel *t,
				   const struct inner_info *in)
{
	__u32 seq = (t->flags & XT_F_OSEQ) ? __sync_fetch_and_add(&t->tx_seq, 1) : 0;
	__u32 hash = 0;
	__u8 buf[OUTER_MAX] = {};
	__u64 flags;
	struct ethhdr eth;
	__u32 olen;

	/* The flow hash is only needed for an automatic UDP source port. */
	if ((t->flags & (XT_F_FOU | XT_F_GUE)) && !t->encap_sport)
		hash = bpf_get_hash_recalc(skb);
	olen = build_outer(buf, t, in, hash, seq);
	if (!olen)
		return XT_R_TX_NO_REMOTE;
	if (olen > OUTER_MAX)
		return XT_R_TX_ADJUST;
	if (in->family == XT_F_INNER_MPLS) {
		/* bpf_skb_adjust_room takes IP packets only: push room at the
		 * front instead; Ethernet and outer headers overwrite the old
		 * Ethernet header below.
		 */
		if (bpf_skb_change_head(skb, olen, 0))
			return XT_R_TX_ADJUST;
	} else {
		flags = (t->flags & XT_F_OUTER6) ? BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 :
						   BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;
		if (t->flags & (XT_F_FOU | XT_F_GUE))
			/* GSO sees a GRE header inside UDP as the inner packet's L2. */
			flags |= BPF_F_ADJ_ROOM_ENCAP_L4_UDP | BPF_F_ADJ_ROOM_ENCAP_L2(gre_len(t));
		else if (t->flags & XT_F_GRE)
			flags |= BPF_F_ADJ_ROOM_ENCAP_L4_GRE;
		if (bpf_skb_adjust_room(skb, olen, BPF_ADJ_ROOM_MAC, flags))
			return XT_R_TX_ADJUST;
	}

	/* The next hop's MACs come from bpf_redirect_neigh; the destination
	 * only has to be unicast for it to accept the frame.
	 */
	__builtin_memcpy(eth.h_dest, t->mac, ETH_ALEN);
	__builtin_memcpy(eth.h_source, t->peer_mac, ETH_ALEN);
	eth.h_proto = (t->flags & XT_F_OUTER6) ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) ||
	    bpf_skb_store_bytes(skb, sizeof(eth), buf, olen, 0))
		return XT_R_TX_ADJUST;
#ifdef XT_SLOW_TX
	if (t->flags & (XT_F_OCSUM | XT_F_UDP_CSUM))
		return fill_checksums(skb, t, olen);
#endif
	return XT_R_ENCAP;
}

/* Sends the encapsulated packet out of the underlay. */
static __always_inline __u32 encap_redirect(struct __sk_buff *skb, const struct xt_tunnel *t,
					    const struct inner_info *in)
{
	struct bpf_fib_lookup fib = {};

	if (in->family != XT_F_INNER_MPLS) {
		if (bpf_redirect_neigh(t->link_ifindex, NULL, 0, 0) != TC_ACT_REDIRECT)
			return XT_R_TX_REDIRECT;
		return XT_R_ENCAP;
	}
	/* skb->protocol stays MPLS, which bpf_redirect_neigh refuses: find the
	 * next hop here. MPLS rides IPv4 outer headers only (ipip, sit).
	 */
	fib.family = 2; /* AF_INET */
	__builtin_memcpy(&fib.ipv4_src, t->local + 12, 4);
	__builtin_memcpy(&fib.ipv4_dst, t->remote + 12, 4);
	fib.ifindex = t->link_ifindex;
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT) !=
	    BPF_FIB_LKUP_RET_SUCCESS)
		return XT_R_TX_NO_NEIGH;
	if (bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0) ||
	    bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0))
		return XT_R_TX_ADJUST;
	if (bpf_redirect(fib.ifindex, 0) != TC_ACT_REDIRECT)
		return XT_R_TX_REDIRECT;
	return XT_R_ENCAP;
}
