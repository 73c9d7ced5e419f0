// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TC ingress or egress on a monitored netdev: copy frames to an ERSPAN
 * overlay netdev (`xtunnel mirror add`), which encapsulates them as it does
 * every frame sent on it. tc's matchall + mirred does the same where the
 * kernel has them.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

static __always_inline int mirror(struct __sk_buff *skb, __u32 egress)
{
	struct xt_mirror_key k = { .ifindex = skb->ifindex, .egress = egress };
	struct xt_mirror *m = bpf_map_lookup_elem(&xt_mirrors, &k);

	if (!m)
		return TC_ACT_UNSPEC;
	if (m->sample > 1 && bpf_get_prandom_u32() % m->sample) {
		__sync_fetch_and_add(&m->skipped, 1);
		xt_count(XT_R_MIRROR_SAMPLED_OUT);
		return TC_ACT_UNSPEC;
	}
	if (bpf_clone_redirect(skb, m->target, 0)) {
		xt_count(XT_R_MIRROR_FAIL);
		return TC_ACT_UNSPEC;
	}
	__sync_fetch_and_add(&m->packets, 1);
	xt_count(XT_R_MIRROR);
	/* Not TC_ACT_OK: the frame goes on to the next program, if any. */
	return TC_ACT_UNSPEC;
}

SEC("tc")
int xt_tc_mirror_in(struct __sk_buff *skb)
{
	return mirror(skb, 0);
}

SEC("tc")
int xt_tc_mirror_out(struct __sk_buff *skb)
{
	return mirror(skb, 1);
}

char _license[] SEC("license") = "Dual BSD/GPL";
