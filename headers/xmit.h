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
static __always_inline int encap_xmit(struct __sk_buff *skb, struct xt_tunnel *t)
{
	struct xt_tun_stats *st = xt_stats_of(t);
	struct inner_info in = {};
	__u32 reason, segs;

	reason = parse_inner(skb, &in);
	if (reason != XT_R_ENCAP)
		goto drop;
	if (!(t->flags & in.family)) {
		reason = XT_R_TX_INNER_FAMILY;
		goto drop;
	}
	reason = pmtu_check(skb, t, &in);
	if (reason != XT_R_ENCAP)
		goto drop;
	reason = encap(skb, t, &in);
	if (reason != XT_R_ENCAP)
		goto drop;
	reason = encap_redirect(skb, t, &in);
	if (reason != XT_R_ENCAP)
		goto drop;
	segs = skb->gso_segs ? skb->gso_segs : 1;
	if (st) {
		st->tx_packets += segs;
		st->tx_bytes += in.len;
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
