// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TC egress on an overlay netdev: encapsulate what the kernel routes into
 * the tunnel and send it out of the underlay.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "encap.h"
#include "pmtu.h"

SEC("tc")
int xt_tc_encap(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct inner_info in = {};
	struct xt_tunnel *t;
	struct xt_tun_stats *st;
	__u32 reason;
	__u32 segs;

	t = bpf_map_lookup_elem(&xt_encap, &ifindex);
	if (!t) {
		xt_count(XT_R_TX_NO_TUNNEL);
		return TC_ACT_SHOT;
	}
	st = xt_stats_of(t);

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
		return bpf_redirect(ifindex, BPF_F_INGRESS);
	return TC_ACT_SHOT;
}

char _license[] SEC("license") = "Dual BSD/GPL";
