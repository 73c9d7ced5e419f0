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
#ifndef ETH_P_ERSPAN2
#define ETH_P_ERSPAN2 0x22EB
#endif
#define IP_DF 0x4000
#define VLAN_HLEN 4

#define XT_F_UDP_TYPES (XT_F_FOU | XT_F_GUE | XT_F_VXLAN | XT_F_GENEVE)

/* What the outer header inherits from the inner packet. */
struct inner_info {
	__be16 proto; /* ethertype */
	__u8 tos;
	__u8 ttl;
	__u8 df;
	__u8 eth_ip6; /* Ethernet: the frame carries IPv6 */
	__u32 family; /* XT_F_INNER4, XT_F_INNER6, XT_F_INNER_MPLS or XT_F_ETH */
	__be32 flowlabel;
	__u32 len; /* L3 length; for Ethernet, the frame's */
	/* Ethernet: the inner header to write behind the outer ones, with a
	 * VLAN tag the skb carried aside put back in line (l2_len 18).
	 */
	__u8 eth[ETH_HLEN + VLAN_HLEN];
	__u8 l2_len;
	__u8 vlan; /* tagged: vlan_tci is the tag */
	__u16 vlan_tci;
	__u8 dst[16]; /* inner IP destination, IPv4-mapped for IPv4 (routes, sit 6to4 / ISATAP) */
	/* The outer header's per-packet fields: the tunnel's, or a route's. */
	__u8 remote[16]; /* outer destination, IPv4-mapped for IPv4 */
	__u8 local[16];  /* outer source */
	__be32 okey;     /* with okey_on */
	__u8 okey_on;
	__u8 ottl; /* 0: inherit */
	__u8 otos;
	__u8 otos_inherit; /* outer TOS from the inner packet: the tunnel's inherit, no route TOS */
	__u32 hash;        /* flow hash, for an automatic UDP source port */
	__u32 seq;         /* GRE sequence number */
};

/* Room for the largest outer header: IPv6, encapsulation limit, UDP,
 * Geneve with 64 option bytes (128 bytes). Builders fill it from the front.
 */
#define OUTER_MAX 128

/* Per-CPU scratch for the outer headers: the stack is too small for them
 * next to everything else the TC programs keep there.
 */
struct xt_scratch {
	__u8 outer[OUTER_MAX];
	struct inner_info in;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_scratch);
} xt_scratch SEC(".maps");

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
		in->dst[10] = 0xff;
		in->dst[11] = 0xff;
		__builtin_memcpy(in->dst + 12, &ip->daddr, 4);
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
		__builtin_memcpy(in->dst, &ip6->daddr, 16);
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

/* Reads an Ethernet frame sent on an Ethernet tunnel: the whole frame is
 * the payload; TOS, TTL and DF come from IP right behind it, if any.
 */
static __always_inline __u32 parse_inner_eth(struct __sk_buff *skb, struct inner_info *in)
{
	__u32 need = sizeof(struct ethhdr) + VLAN_HLEN + sizeof(struct ipv6hdr);
	struct vlan_tag *tag;
	struct ethhdr *eth;
	struct cursor c;
	__be16 proto;

	if ((void *)(long)skb->data + need > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, need);
	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	eth = cursor_pull(&c, sizeof(*eth));
	if (!eth)
		return XT_R_TX_TRUNCATED;
	in->family = XT_F_ETH;
	in->proto = bpf_htons(ETH_P_TEB);
	in->len = skb->len;
	in->ttl = 64;
	__builtin_memcpy(in->eth, eth, 2 * ETH_ALEN);
	proto = eth->h_proto;
	if (skb->vlan_present) {
		__be16 tpid = (__be16)skb->vlan_proto, tci = bpf_htons(skb->vlan_tci);

		__builtin_memcpy(in->eth + 12, &tpid, 2);
		__builtin_memcpy(in->eth + 14, &tci, 2);
		__builtin_memcpy(in->eth + 16, &proto, 2);
		in->l2_len = ETH_HLEN + VLAN_HLEN;
		in->len += VLAN_HLEN;
		in->vlan = 1;
		in->vlan_tci = skb->vlan_tci;
	} else {
		__builtin_memcpy(in->eth + 12, &proto, 2);
		in->l2_len = ETH_HLEN;
		if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
			tag = cursor_pull(&c, sizeof(*tag));
			if (!tag)
				return XT_R_TX_TRUNCATED;
			in->vlan = 1;
			in->vlan_tci = bpf_ntohs(tag->tci);
			proto = tag->proto;
		}
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor_pull(&c, sizeof(*ip));

		if (ip && ip->version == 4) {
			in->tos = ip->tos;
			in->ttl = ip->ttl;
			in->df = !!(ip->frag_off & bpf_htons(IP_DF));
		}
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor_pull(&c, sizeof(*ip6));

		if (ip6 && ip6->version == 6) {
			in->eth_ip6 = 1;
			in->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
			in->ttl = ip6->hop_limit;
			in->flowlabel = *(__be32 *)ip6 & bpf_htonl(0x000fffff);
		}
	}
	return XT_R_ENCAP;
}

/* The protocol of what follows the outer IP header, or the UDP
 * encapsulation (FOU: its port says it; GUE: its header).
 */
static __always_inline __u8 payload_proto(const struct xt_tunnel *t, const struct inner_info *in)
{
	if (t->flags & XT_F_GRE)
		return IPPROTO_GRE;
	if (t->flags & (XT_F_VXLAN | XT_F_GENEVE))
		return IPPROTO_UDP;
	if (in->family == XT_F_INNER4)
		return IPPROTO_IPIP;
	if (in->family == XT_F_INNER6)
		return IPPROTO_IPV6;
	return IPPROTO_MPLS;
}

/* The outer IP header's protocol. */
static __always_inline __u8 outer_proto(const struct xt_tunnel *t, const struct inner_info *in)
{
	if (t->flags & XT_F_UDP_TYPES)
		return IPPROTO_UDP;
	return payload_proto(t, in);
}

/* Bytes of GRE header t sends for in. */
static __always_inline __u32 gre_len(const struct xt_tunnel *t, const struct inner_info *in)
{
	if (!(t->flags & XT_F_GRE))
		return 0;
	return sizeof(struct gre_base) + ((t->flags & XT_F_OCSUM) ? 4 : 0) + (in->okey_on ? 4 : 0) +
	       ((t->flags & XT_F_OSEQ) ? 4 : 0);
}

/* Bytes of outer header for tunnel t and packet in. */
static __always_inline __u32 outer_len(const struct xt_tunnel *t, const struct inner_info *in)
{
	__u32 n = (t->flags & XT_F_OUTER6) ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);

	if (t->flags & XT_F_ENCAP_LIMIT)
		n += sizeof(struct ipv6_encap_limit_hdr);
	if (t->flags & XT_F_UDP_TYPES)
		n += sizeof(struct udphdr);
	if (t->flags & XT_F_GUE)
		n += 4;
	if (t->flags & XT_F_VXLAN)
		n += 8;
	if (t->flags & XT_F_GENEVE)
		n += 8 + (t->opts_len & 0x7c);
	if (t->flags & XT_F_ERSPAN)
		n += t->erspan_ver == 2 ? 12 : 8;
	return n + gre_len(t, in);
}

/* UDP source port: fixed, or the inner flow's hash scaled into
 * sport_min..sport_max (multiply-shift: no modulo bias), so one flow keeps
 * one port and flows spread over RSS queues and ECMP paths.
 */
static __always_inline __be16 encap_sport(const struct xt_tunnel *t, __u32 hash)
{
	__u32 range = (__u32)t->sport_max - t->sport_min + 1;

	if (t->encap_sport)
		return t->encap_sport;
	return bpf_htons(t->sport_min + (__u16)(((__u64)hash * range) >> 32));
}

/* Geneve header and t's options; p has room for XT_GENEVE_OPTS_MAX. */
static __always_inline __u32 build_geneve(__u8 *p, const struct xt_tunnel *t,
					  const struct inner_info *in)
{
	__u32 n = t->opts_len & 0x7c;

	p[0] = n / 4;
	p[1] = (t->flags & XT_F_GENEVE_CRIT) ? 0x40 : 0;
	__builtin_memcpy(p + 2, &in->proto, 2);
	__builtin_memcpy(p + 4, &t->vni, 4);
#pragma unroll
	for (int i = 0; i < XT_GENEVE_OPTS_MAX; i += 4)
		if (i < n)
			__builtin_memcpy(p + 8 + i, t->opts + i, 4);
	return 8 + n;
}

/* UDP header, then the GUE header (version 0, no flags), VXLAN or Geneve
 * header t sends.
 */
static __always_inline __u32 build_udp(__u8 *p, const struct xt_tunnel *t,
				       const struct inner_info *in, __u32 len, __u32 hash)
{
	struct udphdr *uh = (struct udphdr *)p;
	__u8 *h = p + sizeof(*uh);

	uh->source = encap_sport(t, hash);
	uh->dest = t->encap_dport;
	uh->len = bpf_htons(len);
	uh->check = 0; /* IPv4 without a checksum; else filled in later */
	if (t->flags & XT_F_GUE) {
		h[0] = 0;
		h[1] = payload_proto(t, in);
		h[2] = 0;
		h[3] = 0;
		return sizeof(*uh) + 4;
	}
	if (t->flags & XT_F_VXLAN) {
		*(__be32 *)h = bpf_htonl(0x08000000);
		*(__be32 *)(h + 4) = t->vni;
		return sizeof(*uh) + 8;
	}
	if (t->flags & XT_F_GENEVE)
		return sizeof(*uh) + build_geneve(h, t, in);
	return sizeof(*uh);
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
	if ((t->flags & XT_F_REMOTE_6TO4) && in->dst[0] == 0x20 && in->dst[1] == 0x02) {
		__builtin_memcpy(&v4, &in->dst[2], 4);
		return v4;
	}
	if ((t->flags & XT_F_REMOTE_ISATAP) && (in->dst[8] & ~0x02) == 0 && in->dst[9] == 0 &&
	    in->dst[10] == 0x5e && in->dst[11] == 0xfe) {
		__builtin_memcpy(&v4, &in->dst[12], 4);
		return v4;
	}
	return 0;
}

static __always_inline __u8 outer_tos(const struct xt_tunnel *t, const struct inner_info *in)
{
	__u8 tos = in->otos_inherit ? in->tos : in->otos;

	return ecn_encap(tos, in->tos);
}

static __always_inline void build_ipv4(struct iphdr *h, const struct xt_tunnel *t,
				       const struct inner_info *in, __u32 olen, __be32 daddr)
{
	int df = (t->flags & XT_F_DF) || (in->df && !(t->flags & XT_F_IGNORE_DF));

	/* vxlan and geneve df inherit (neither flag): an IPv6 payload sets
	 * DF too, as Linux's vxlan and geneve do.
	 */
	if ((t->flags & (XT_F_VXLAN | XT_F_GENEVE)) && !(t->flags & XT_F_IGNORE_DF) &&
	    (in->family == XT_F_INNER6 || in->eth_ip6))
		df = 1;

	h->version = 4;
	h->ihl = 5;
	h->tos = outer_tos(t, in);
	h->tot_len = bpf_htons(in->len + olen);
	h->frag_off = df ? bpf_htons(IP_DF) : 0;
	h->id = df ? 0 : (__be16)bpf_get_prandom_u32();
	h->ttl = in->ottl ? in->ottl : in->ttl;
	h->protocol = outer_proto(t, in);
	__builtin_memcpy(&h->saddr, in->local + 12, 4);
	h->daddr = daddr;
	h->check = 0;
	h->check = ipv4_csum(h);
}

static __always_inline void build_ipv6(struct ipv6hdr *h, const struct xt_tunnel *t,
				       const struct inner_info *in, __u32 olen, const __u8 *remote)
{
	__u8 tc = outer_tos(t, in);
	__be32 flow = (t->flags & XT_F_FLOW_INHERIT) ? in->flowlabel : t->flowlabel;

	*(__be32 *)h = bpf_htonl(0x60000000 | ((__u32)tc << 20)) | flow;
	h->payload_len = bpf_htons(in->len + olen - sizeof(*h));
	h->nexthdr = (t->flags & XT_F_ENCAP_LIMIT) ? IPPROTO_DSTOPTS : outer_proto(t, in);
	h->hop_limit = in->ottl ? in->ottl : in->ttl;
	__builtin_memcpy(&h->saddr, in->local, 16);
	__builtin_memcpy(&h->daddr, remote, 16);
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
	if (in->okey_on) {
		flags |= GRE_F_KEY;
		*(__be32 *)(p + off) = in->okey;
		off += 4;
	}
	if (t->flags & XT_F_OSEQ) {
		flags |= GRE_F_SEQ;
		*(__be32 *)(p + off) = bpf_htonl(seq);
	}
	g->flags = bpf_htons(flags);
	g->proto = in->proto;
	if (t->flags & XT_F_ERSPAN)
		g->proto = bpf_htons(t->erspan_ver == 2 ? ETH_P_ERSPAN2 : ETH_P_ERSPAN);
}

/* ERSPAN type II (erspan_ver 1) or type III (2) header, as Linux builds
 * them: the session ID from the key, the mirrored frame's VLAN tag (kept
 * in the frame: encapsulation type 3) and class of service.
 */
static __always_inline void build_erspan(__u8 *p, const struct xt_tunnel *t,
					 const struct inner_info *in)
{
	__u32 session = bpf_ntohl(t->okey) & 0x3ff;
	__u32 cos = in->vlan ? in->vlan_tci >> 13 : in->tos >> 5;
	__u32 vlan = in->vlan ? in->vlan_tci & 0xfff : 0;
	__u32 w0 = (vlan << 16) | (cos << 13) | session;

	if (t->erspan_ver != 2) {
		/* Ver 1 | VLAN | COS | En | T | Session ID; Reserved | Index */
		w0 |= (1u << 28) | ((in->vlan ? 3u : 0u) << 11);
		*(__be32 *)p = bpf_htonl(w0);
		*(__be32 *)(p + 4) = bpf_htonl(t->erspan_index & 0xfffff);
		return;
	}
	/* Ver 2 | VLAN | COS | BSO | T | Session ID; Timestamp (100 us units,
	 * granularity 0); SGT | P | FT | HW ID | D | Gra | O
	 */
	w0 |= 2u << 28;
	*(__be32 *)p = bpf_htonl(w0);
	*(__be32 *)(p + 4) = bpf_htonl((__u32)(bpf_ktime_get_ns() / 100000));
	*(__be32 *)(p + 8) = bpf_htonl(((__u32)(t->erspan_hwid & 0x3f) << 4) |
				       ((__u32)(t->erspan_dir & 1) << 3));
}

/* Builds the outer headers of t to remote into buf. Returns their
 * length, or 0 when the packet has no remote (sit 6to4/ISATAP).
 */
static __always_inline __u32 build_outer(__u8 *buf, const struct xt_tunnel *t,
					 const struct inner_info *in, __u32 hash, __u32 seq,
					 const __u8 *remote)
{
	__u32 olen = outer_len(t, in), off;
	__be32 daddr;

	if (t->flags & XT_F_OUTER6) {
		build_ipv6((struct ipv6hdr *)buf, t, in, olen, remote);
		off = sizeof(struct ipv6hdr);
		if (t->flags & XT_F_ENCAP_LIMIT) {
			build_encap_limit((struct ipv6_encap_limit_hdr *)(buf + off), t, in);
			off += sizeof(struct ipv6_encap_limit_hdr);
		}
	} else {
		if (t->flags & (XT_F_REMOTE_6TO4 | XT_F_REMOTE_ISATAP))
			daddr = sit_remote(t, in);
		else
			__builtin_memcpy(&daddr, remote + 12, 4);
		if (!daddr)
			return 0;
		build_ipv4((struct iphdr *)buf, t, in, olen, daddr);
		off = sizeof(struct iphdr);
	}
	/* off <= 48 here; the bounds below keep the verifier sure of it. */
	if ((t->flags & XT_F_UDP_TYPES) && off <= 48)
		off += build_udp(buf + off, t, in, in->len + olen - off, hash);
	if ((t->flags & XT_F_GRE) && off <= 60) {
		build_gre(buf + off, t, in, seq);
		off += gre_len(t, in);
		if ((t->flags & XT_F_ERSPAN) && off <= 76)
			build_erspan(buf + off, t, in);
	}
	return olen;
}

/* Builds t's outer headers for in into sc; returns their length (0: no
 * remote). A global function: verified once, apart from its callers.
 */
__noinline int xt_build_outer(const struct xt_tunnel *t, const struct inner_info *in,
			      struct xt_scratch *sc)
{
	if (!t || !in || !sc)
		return 0;
	__builtin_memset(sc->outer, 0, OUTER_MAX);
	return build_outer(sc->outer, t, in, in->hash, in->seq, in->remote);
}

#ifdef XT_SLOW_TX
/* Fills the GRE checksum (RFC 2784: over the GRE header and payload) and
 * the UDP checksum (with its pseudo-header) of a packet encap() built.
 * Only the slow TX path asks for them: there the skb is one packet whose
 * inner checksums the stack has completed.
 */
__noinline int xt_fill_checksums(struct __sk_buff *skb, const struct xt_tunnel *t)
{
	__u32 l3, udp_off, gre_off, len = skb->len;
	__u64 sum = 0;
	__sum16 check;

	if (!t)
		return XT_R_TX_ADJUST;
	l3 = (t->flags & XT_F_OUTER6) ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	if (t->flags & XT_F_ENCAP_LIMIT)
		l3 += sizeof(struct ipv6_encap_limit_hdr);
	gre_off = sizeof(struct ethhdr) + l3;
	if (t->flags & (XT_F_FOU | XT_F_GUE))
		gre_off += sizeof(struct udphdr) + ((t->flags & XT_F_GUE) ? 4 : 0);
	if ((t->flags & XT_F_OCSUM) && len > gre_off) {
		if (skb_csum_add(skb, gre_off, len - gre_off, &sum))
			return XT_R_TX_CSUM;
		check = csum_fold64(sum);
		if (bpf_skb_store_bytes(skb, gre_off + 4, &check, sizeof(check), 0))
			return XT_R_TX_ADJUST;
	}
	udp_off = sizeof(struct ethhdr) + l3;
	if ((t->flags & XT_F_UDP_CSUM) && (t->flags & XT_F_UDP_TYPES) && len > udp_off) {
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

/* Whether bpf_skb_adjust_room and bpf_redirect_neigh take skb: they
 * want IP. Other frames (ARP, in-line VLAN tags, MPLS) grow at the front
 * and leave through bpf_fib_lookup (fib_xmit).
 */
static __always_inline int skb_is_ip(const struct __sk_buff *skb)
{
	return skb->protocol == bpf_htons(ETH_P_IP) || skb->protocol == bpf_htons(ETH_P_IPV6);
}

/* Encapsulates skb for t, to remote (16 bytes, IPv4-mapped for IPv4). */
static __always_inline __u32 encap(struct __sk_buff *skb, struct xt_tunnel *t,
				   struct inner_info *in, struct xt_scratch *sc)
{
	__u8 *buf = sc->outer;
	struct ethhdr eth;
	__u32 room, olen;
	__u64 flags;

	in->seq = (t->flags & XT_F_OSEQ) ? __sync_fetch_and_add(&t->tx_seq, 1) : 0;
	/* The flow hash is only needed for an automatic UDP source port. */
	if ((t->flags & XT_F_UDP_TYPES) && !t->encap_sport)
		in->hash = bpf_get_hash_recalc(skb);
	olen = xt_build_outer(t, in, sc);
	if (!olen)
		return XT_R_TX_NO_REMOTE;
	if (olen > OUTER_MAX)
		return XT_R_TX_ADJUST;
	/* Ethernet: the inner header goes behind the outer ones; the frame's
	 * own Ethernet header in front becomes the outer one.
	 */
	room = olen + in->l2_len;
	if (in->vlan && skb->vlan_present && bpf_skb_vlan_pop(skb))
		return XT_R_TX_ADJUST;
	if (in->family == XT_F_INNER_MPLS || !skb_is_ip(skb)) {
		/* bpf_skb_adjust_room takes IP packets only: push room at the
		 * front instead; Ethernet and outer headers overwrite the old
		 * Ethernet header below. That cannot tell GSO about the new
		 * headers, so a GSO skb (rare: not IP) cannot go this way.
		 */
		if (skb->gso_segs > 1)
			return XT_R_TX_GSO_NON_IP;
		if (bpf_skb_change_head(skb, room, 0))
			return XT_R_TX_ADJUST;
	} else {
		flags = (t->flags & XT_F_OUTER6) ? BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 :
						   BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;
		if (t->flags & XT_F_UDP_TYPES)
			flags |= BPF_F_ADJ_ROOM_ENCAP_L4_UDP;
		else if (t->flags & XT_F_GRE)
			flags |= BPF_F_ADJ_ROOM_ENCAP_L4_GRE;
		/* GSO: between the L4 header and the inner network header are
		 * the tunnel's own headers and, for Ethernet, the inner MAC
		 * header, which must be all GSO sees as inner L2 then. An IP
		 * payload behind GRE in UDP has the GRE header as its L2.
		 */
		if (in->family == XT_F_ETH)
			flags |= BPF_F_ADJ_ROOM_ENCAP_L2(in->l2_len) | BPF_F_ADJ_ROOM_ENCAP_L2_ETH;
		else if (t->flags & (XT_F_FOU | XT_F_GUE))
			flags |= BPF_F_ADJ_ROOM_ENCAP_L2(gre_len(t, in));
		if (bpf_skb_adjust_room(skb, room, BPF_ADJ_ROOM_MAC, flags))
			return XT_R_TX_ADJUST;
	}

	/* The next hop's MACs come from bpf_redirect_neigh or fib_xmit; the
	 * destination only has to be unicast for the former to take it.
	 */
	__builtin_memcpy(eth.h_dest, t->mac, ETH_ALEN);
	__builtin_memcpy(eth.h_source, t->peer_mac, ETH_ALEN);
	eth.h_proto = (t->flags & XT_F_OUTER6) ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) ||
	    bpf_skb_store_bytes(skb, sizeof(eth), buf, olen, 0))
		return XT_R_TX_ADJUST;
	if (in->l2_len == ETH_HLEN &&
	    bpf_skb_store_bytes(skb, sizeof(eth) + olen, in->eth, ETH_HLEN, 0))
		return XT_R_TX_ADJUST;
	if (in->l2_len == ETH_HLEN + VLAN_HLEN &&
	    bpf_skb_store_bytes(skb, sizeof(eth) + olen, in->eth, ETH_HLEN + VLAN_HLEN, 0))
		return XT_R_TX_ADJUST;
#ifdef XT_SLOW_TX
	if (t->flags & (XT_F_OCSUM | XT_F_UDP_CSUM))
		return xt_fill_checksums(skb, t);
#endif
	return XT_R_ENCAP;
}

/* Sends skb (encapsulated for in->remote) out of the underlay with the next
 * hop's MACs from the FIB, for what bpf_redirect_neigh refuses. The lookup
 * is made as if the packet arrived on t's veth peer, xtunnel's own device
 * (forwarding on), so the underlay's forwarding setting does not matter.
 * With clone, a copy leaves and skb stays.
 */
static __always_inline __u32 fib_xmit(struct __sk_buff *skb, const struct xt_tunnel *t,
				      const struct inner_info *in, int clone)
{
	struct bpf_fib_lookup fib = {};

	if (t->flags & XT_F_OUTER6) {
		fib.family = 10; /* AF_INET6 */
		__builtin_memcpy(fib.ipv6_src, in->local, 16);
		__builtin_memcpy(fib.ipv6_dst, in->remote, 16);
	} else {
		fib.family = 2; /* AF_INET */
		__builtin_memcpy(&fib.ipv4_src, in->local + 12, 4);
		__builtin_memcpy(&fib.ipv4_dst, in->remote + 12, 4);
	}
	fib.ifindex = t->peer_ifindex;
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return XT_R_TX_NO_NEIGH;
	if (bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0) ||
	    bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0))
		return XT_R_TX_ADJUST;
	if (clone)
		return bpf_clone_redirect(skb, fib.ifindex, 0) ? XT_R_TX_REDIRECT : XT_R_ENCAP;
	if (bpf_redirect(fib.ifindex, 0) != TC_ACT_REDIRECT)
		return XT_R_TX_REDIRECT;
	return XT_R_ENCAP;
}

/* Points an encapsulated skb at another remote: outer destination, IPv4
 * header checksum, and the UDP checksum when one was filled in.
 */
static __always_inline __u32 retarget(struct __sk_buff *skb, const struct xt_tunnel *t,
				      const __u8 *from, const __u8 *to)
{
	__u32 l3 = (t->flags & XT_F_OUTER6) ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 udp_check = sizeof(struct ethhdr) + l3 + 6;
	int udp = (t->flags & XT_F_UDP_CSUM) && (t->flags & XT_F_UDP_TYPES);
	__be32 a, b;
	__s64 diff;

	if (t->flags & XT_F_ENCAP_LIMIT)
		udp_check += sizeof(struct ipv6_encap_limit_hdr);
	if (t->flags & XT_F_OUTER6) {
		if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + 24, to, 16, 0))
			return XT_R_TX_ADJUST;
		if (!udp)
			return XT_R_ENCAP;
		diff = bpf_csum_diff((__be32 *)from, 16, (__be32 *)to, 16, 0);
		if (diff < 0 || bpf_l4_csum_replace(skb, udp_check, 0, (__u32)diff,
						    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0))
			return XT_R_TX_ADJUST;
		return XT_R_ENCAP;
	}
	__builtin_memcpy(&a, from + 12, 4);
	__builtin_memcpy(&b, to + 12, 4);
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + 16, &b, 4, 0) ||
	    bpf_l3_csum_replace(skb, sizeof(struct ethhdr) + 10, a, b, 4))
		return XT_R_TX_ADJUST;
	if (udp &&
	    bpf_l4_csum_replace(skb, udp_check, a, b, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4))
		return XT_R_TX_ADJUST;
	return XT_R_ENCAP;
}

/* Sends the encapsulated packet out of the underlay. */
static __always_inline __u32 encap_redirect(struct __sk_buff *skb, const struct xt_tunnel *t,
					    const struct inner_info *in)
{
	struct bpf_fib_lookup fib = {};

	if (in->family == XT_F_ETH && !skb_is_ip(skb))
		return fib_xmit(skb, t, in, 0);
	if (in->family != XT_F_INNER_MPLS) {
		if (bpf_redirect_neigh(t->link_ifindex, NULL, 0, 0) != TC_ACT_REDIRECT)
			return XT_R_TX_REDIRECT;
		return XT_R_ENCAP;
	}
	/* skb->protocol stays MPLS, which bpf_redirect_neigh refuses: find the
	 * next hop here. MPLS rides IPv4 outer headers only (ipip, sit).
	 */
	fib.family = 2; /* AF_INET */
	__builtin_memcpy(&fib.ipv4_src, in->local + 12, 4);
	__builtin_memcpy(&fib.ipv4_dst, in->remote + 12, 4);
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

/* An external tunnel's peer for in: the route to the inner destination
 * gives remote, key and, when set, source, TTL and TOS.
 */
static __always_inline __u32 route_to(const struct xt_tunnel *t, struct inner_info *in)
{
	struct xt_route *r;

	if (in->family != XT_F_INNER4 && in->family != XT_F_INNER6)
		return XT_R_TX_NO_ROUTE;
	r = xt_route_lookup(in->dst);
	if (!r || r->ifindex != t->ifindex)
		return XT_R_TX_NO_ROUTE;
	__builtin_memcpy(in->remote, r->remote, 16);
	if (r->local[15] | r->local[12] | r->local[0])
		__builtin_memcpy(in->local, r->local, 16);
	in->okey = r->key;
	in->okey_on = r->has_key;
	if (r->ttl)
		in->ottl = r->ttl;
	if (r->tos) {
		in->otos = r->tos;
		in->otos_inherit = 0;
	}
	return XT_R_ENCAP;
}
