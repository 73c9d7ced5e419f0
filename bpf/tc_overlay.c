// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TC egress on an overlay netdev: encapsulate what the kernel routes into
 * the tunnel and send it out of the underlay.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "xmit.h"

SEC("tc")
int xt_tc_encap(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct xt_tunnel *t;

	t = bpf_map_lookup_elem(&xt_encap, &ifindex);
	if (!t) {
		xt_count(XT_R_TX_NO_TUNNEL);
		return TC_ACT_SHOT;
	}
	/* GRE checksums and sequence numbers, UDP checksums: per packet,
	 * after the stack has segmented and checksummed (xt_tc_peer).
	 */
	if (t->flags & XT_F_SLOW_TX) {
		xt_count(XT_R_TX_SLOW);
		return TC_ACT_OK;
	}
	return encap_xmit(skb, t);
}

char _license[] SEC("license") = "Dual BSD/GPL";
