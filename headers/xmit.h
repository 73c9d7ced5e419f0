/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The TC transmit operation: what the kernel routed into a tunnel, from
 * parse to redirect, counted.
 */
#pragma once

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "encap.h"
#include "pmtu.h"

/* Encapsulates skb for t and sends it out of the underlay. ICMP errors
 * about packets too big go back into the host on t's overlay netdev.
 */
/* t's FDB entry idx for mac, unless it is a learned one that aged out. */
static __always_inline struct xt_fdb_entry *fdb_find(const struct xt_tunnel *t, const __u8 *mac,
						     __u16 idx)
{
	struct xt_fdb_key k = { .ifindex = t->ifindex, .idx = idx };
	struct xt_fdb_entry *e;

	__builtin_memcpy(k.mac, mac, ETH_ALEN);
	e = bpf_map_lookup_elem(&xt_fdb, &k);
	if (e && e->learned &&
	    bpf_ktime_get_ns() - e->updated_ns > (__u64)t->ageing * 1000000000ULL)
		return NULL;
	return e;
}

/* Sends a copy of skb (encapsulated for in->remote) to every further
 * remote of t's flood list, leaving skb addressed to the last (in->remote).
 * Copies that find no next hop are counted and skipped. Global: verified
 * once.
 */
__noinline int xt_flood(struct __sk_buff *skb, const struct xt_tunnel *t, struct inner_info *in)
{
	const __u8 zero[ETH_ALEN] = {};
	struct xt_fdb_entry *next;
	__u32 reason;

	if (!t || !in)
		return XT_R_TX_ADJUST;
	for (__u16 i = 1; i < XT_FLOOD_MAX; i++) {
		next = fdb_find(t, zero, i);
		if (!next)
			break;
		reason = fib_xmit(skb, t, in, 1);
		xt_count(reason == XT_R_ENCAP ? XT_R_TX_FLOOD_COPY : reason);
		reason = retarget(skb, t, in->remote, next->remote);
		if (reason != XT_R_ENCAP)
			return reason;
		__builtin_memcpy(in->remote, next->remote, 16);
	}
	return XT_R_ENCAP;
}

/* Reads the frame sent: an Ethernet frame (eth) or an IP/MPLS packet. */
__noinline int xt_parse_inner(struct __sk_buff *skb, struct inner_info *in, __u32 eth)
{
	if (!in)
		return XT_R_TX_TRUNCATED;
	if (eth)
		return parse_inner_eth(skb, in);
	return parse_inner(skb, in);
}

/* Path MTU (pmtu.h). Global: verified once. */
__noinline int xt_pmtu(struct __sk_buff *skb, const struct xt_tunnel *t,
		       const struct inner_info *in)
{
	if (!t || !in)
		return XT_R_TX_ADJUST;
	return pmtu_check(skb, t, in);
}

static __always_inline int encap_xmit(struct __sk_buff *skb, struct xt_tunnel *t)
{
	struct xt_tun_stats *st = xt_stats_of(t);
	const __u8 zero[ETH_ALEN] = {};
	struct xt_fdb_entry *e = NULL;
	struct xt_scratch *sc;
	struct inner_info *in;
	__u32 reason, segs, key = 0;
	int flooding = 0;

	sc = bpf_map_lookup_elem(&xt_scratch, &key);
	if (!sc) {
		reason = XT_R_TX_ADJUST;
		goto drop;
	}
	in = &sc->in;
	__builtin_memset(in, 0, sizeof(*in));

	reason = xt_parse_inner(skb, in, t->flags & XT_F_ETH);
	if (reason != XT_R_ENCAP)
		goto drop;
	__builtin_memcpy(in->local, t->local, 16);
	in->okey = t->okey;
	in->okey_on = !!(t->flags & XT_F_OKEY);
	in->ottl = t->ttl;
	in->otos = t->tos;
	in->otos_inherit = !!(t->flags & XT_F_TOS_INHERIT);
	if (!(t->flags & in->family)) {
		reason = XT_R_TX_INNER_FAMILY;
		goto drop;
	}
	/* No fixed remote: the FDB has the destination MAC's, or else the
	 * frame goes to every remote of the flood list.
	 */
	if (t->flags & XT_F_FDB) {
		/* Only a unicast frame has an entry of its own: the all-zero
		 * MAC is the flood list's key, and an IP payload (geneve
		 * innerprotoinherit) has no MAC at all.
		 */
		if (in->family == XT_F_ETH && !(in->eth[0] & 1) &&
		    (in->eth[0] | in->eth[1] | in->eth[2] | in->eth[3] | in->eth[4] | in->eth[5]))
			e = fdb_find(t, in->eth, 0);
		if (!e) {
			flooding = 1;
			e = fdb_find(t, zero, 0);
		}
		if (!e) {
			reason = XT_R_TX_FDB_MISS;
			goto drop;
		}
		__builtin_memcpy(in->remote, e->remote, 16);
	} else if (t->flags & XT_F_EXTERNAL) {
		reason = route_to(t, in);
		if (reason != XT_R_ENCAP)
			goto drop;
	} else {
		__builtin_memcpy(in->remote, t->remote, 16);
	}
	reason = xt_pmtu(skb, t, in);
	if (reason != XT_R_ENCAP)
		goto drop;
	/* bpf_skb_adjust_room clears gso_segs: count the segments first. */
	segs = skb->gso_segs ? skb->gso_segs : 1;
	reason = encap(skb, t, in, sc);
	if (reason != XT_R_ENCAP)
		goto drop;
	if (flooding) {
		reason = xt_flood(skb, t, in);
		if (reason != XT_R_ENCAP)
			goto drop;
	}
	reason = encap_redirect(skb, t, in);
	if (reason != XT_R_ENCAP)
		goto drop;
	if (st) {
		st->tx_packets += segs;
		st->tx_bytes += in->len;
	}
	xt_count(XT_R_ENCAP);
	return TC_ACT_REDIRECT;

drop:
	xt_count(reason);
	if (st)
		st->tx_dropped++;
	/* Too big: skb is now the ICMP error telling the sender so. */
	if (reason == XT_R_TX_PMTU_ICMP)
		return bpf_redirect(t->ifindex, BPF_F_INGRESS);
	return TC_ACT_SHOT;
}
