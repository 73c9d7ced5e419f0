// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TC ingress on the veth peer of an overlay netdev whose tunnel needs
 * per-packet work (GRE checksum or sequence numbers, UDP checksums): the
 * overlay has no segmentation or checksum offload, so what arrives here
 * is one packet with its checksums complete.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* Only this program fills GRE and UDP checksums (encap.h). */
#define XT_SLOW_TX
#include "xmit.h"

SEC("tc")
int xt_tc_peer(struct __sk_buff *skb)
{
	__u32 peer = skb->ifindex;
	struct xt_tunnel *t;
	__u32 *overlay;

	overlay = bpf_map_lookup_elem(&xt_peers, &peer);
	t = overlay ? bpf_map_lookup_elem(&xt_encap, overlay) : NULL;
	if (!t) {
		xt_count(XT_R_TX_NO_TUNNEL);
		return TC_ACT_SHOT;
	}
	return encap_xmit(skb, t);
}

char _license[] SEC("license") = "Dual BSD/GPL";
