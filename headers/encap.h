/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* TC encapsulation: outer header builders, then the skb operation. */
#pragma once

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xtunnel.h"
#include "maps.h"
#include "parsing.h"
#include "gre.h"
#include "csum.h"
#include "ecn.h"

#define IP_DF 0x4000

/* What the outer header inherits from the inner packet. */
struct inner_info {
	__be16 proto; /* ethertype */
	__u8 tos;
	__u8 ttl;
	__u8 df;
	__u32 len; /* L3 length */
};

/* Outer IPv4 + GRE with key: the largest header built here. */
struct outer_v4 {
	struct iphdr ip;
	struct gre_base gre;
	__be32 key;
};

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
		in->tos = ip->tos;
		in->ttl = ip->ttl;
		in->df = !!(ip->frag_off & bpf_htons(IP_DF));
		return XT_R_ENCAP;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor_pull(&c, sizeof(*ip6));

		if (!ip6)
			return XT_R_TX_TRUNCATED;
		in->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
		in->ttl = ip6->hop_limit;
		return XT_R_ENCAP;
	}
	return XT_R_TX_NOT_IP;
}

/* Bytes of outer header for tunnel t. */
static __always_inline __u32 outer_len_v4(const struct xt_tunnel *t)
{
	if (t->type != XT_TYPE_GRE)
		return sizeof(struct iphdr);
	if (t->flags & XT_F_OKEY)
		return sizeof(struct outer_v4);
	return sizeof(struct iphdr) + sizeof(struct gre_base);
}

static __always_inline void build_outer_v4(struct outer_v4 *h, const struct xt_tunnel *t,
					   const struct inner_info *in, __u32 olen)
{
	__u8 tos = (t->flags & XT_F_TOS_INHERIT) ? in->tos : t->tos;

	h->ip.version = 4;
	h->ip.ihl = 5;
	h->ip.tos = ecn_encap(tos, in->tos);
	h->ip.tot_len = bpf_htons(in->len + olen);
	h->ip.frag_off = ((t->flags & XT_F_DF) || in->df) ? bpf_htons(IP_DF) : 0;
	h->ip.id = h->ip.frag_off ? 0 : (__be16)bpf_get_prandom_u32();
	h->ip.ttl = t->ttl ? t->ttl : in->ttl;
	h->ip.protocol = t->type == XT_TYPE_GRE ? IPPROTO_GRE : IPPROTO_IPIP;
	__builtin_memcpy(&h->ip.saddr, t->local + 12, 4);
	__builtin_memcpy(&h->ip.daddr, t->remote + 12, 4);
	h->ip.check = 0;
	h->ip.check = ipv4_csum(&h->ip);

	h->gre.flags = (t->flags & XT_F_OKEY) ? bpf_htons(GRE_F_KEY) : 0;
	h->gre.proto = in->proto;
	h->key = t->okey;
}

/* Inserts the outer header after the Ethernet header. */
static __always_inline int encap_v4(struct __sk_buff *skb, const struct xt_tunnel *t,
				    const struct inner_info *in)
{
	__u64 flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;
	__u32 olen = outer_len_v4(t);
	struct outer_v4 h = {};
	struct ethhdr eth;

	if (t->type == XT_TYPE_GRE)
		flags |= BPF_F_ADJ_ROOM_ENCAP_L4_GRE;
	build_outer_v4(&h, t, in, olen);
	if (bpf_skb_adjust_room(skb, olen, BPF_ADJ_ROOM_MAC, flags))
		return -1;

	/* The next hop's MACs come from bpf_redirect_neigh; the destination
	 * only has to be unicast for it to accept the frame.
	 */
	__builtin_memcpy(eth.h_dest, t->mac, ETH_ALEN);
	__builtin_memcpy(eth.h_source, t->peer_mac, ETH_ALEN);
	eth.h_proto = bpf_htons(ETH_P_IP);
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0))
		return -1;
	if (olen == sizeof(struct iphdr))
		return bpf_skb_store_bytes(skb, sizeof(eth), &h, sizeof(struct iphdr), 0);
	if (olen == sizeof(struct outer_v4))
		return bpf_skb_store_bytes(skb, sizeof(eth), &h, sizeof(struct outer_v4), 0);
	return bpf_skb_store_bytes(skb, sizeof(eth), &h,
				   sizeof(struct iphdr) + sizeof(struct gre_base), 0);
}
