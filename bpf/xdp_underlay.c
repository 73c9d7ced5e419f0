// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* XDP on an underlay netdev: decapsulate packets of configured tunnels,
 * pass everything else to the stack untouched.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "decap.h"
#include "gateway.h"

/* Keeps enums that only Go reads in BTF, for bpf2go -type. */
static enum xt_type xt_btf_type __attribute__((used));
static enum xt_reason xt_btf_reason __attribute__((used));
static enum xt_tunnel_flag xt_btf_flag __attribute__((used));
static enum xt_udp_kind xt_btf_udp_kind __attribute__((used));

SEC("xdp")
int xt_xdp_underlay(struct xdp_md *ctx)
{
	struct decap_ctx d = {};
	struct cursor c;
	__u32 reason;
	int act;

	reason = classify(ctx, &d);
	if (reason != XT_R_DECAP) {
		/* Gateway mode: a plain packet may be routed into a tunnel. */
		if ((reason == XT_R_PASS_NOT_TUNNEL || reason == XT_R_PASS_NO_TUNNEL) &&
		    gw_port(ctx->ingress_ifindex)) {
			act = xt_gw_encap(ctx);
			if (act != GW_NOT_OURS)
				return act;
		}
		xt_count(reason);
		return XDP_PASS;
	}

	/* The tunnel matched: from here on a bad packet is dropped and
	 * counted on it, except that a GRE checksum too long to verify here
	 * goes to the stack rather than out unverified.
	 */
	reason = check_gre(ctx, &d);
	if (reason == XT_R_PASS_GRE_CSUM_LONG) {
		xt_count(reason);
		return XDP_PASS;
	}
	if (reason != XT_R_DECAP)
		goto drop;
	reason = check_udp(ctx, &d);
	if (reason != XT_R_DECAP)
		goto drop;
	if (d.inner_off > 2048) {
		reason = XT_R_DROP_INNER_TRUNC;
		goto drop;
	}
	c.pos = (void *)(long)ctx->data + d.inner_off;
	c.end = (void *)(long)ctx->data_end;
	reason = check_inner(&c, &d);
	if (reason != XT_R_DECAP)
		goto drop;
	/* Gateway mode: an inner packet for a destination behind another
	 * attached NIC goes straight there.
	 */
	if (!(d.t->flags & XT_F_ETH) && gw_port(ctx->ingress_ifindex) &&
	    (d.inner_proto == bpf_htons(ETH_P_IP) || d.inner_proto == bpf_htons(ETH_P_IPV6))) {
		act = xt_gw_decap(ctx, d.inner_off, d.inner_len,
				  d.inner_proto == bpf_htons(ETH_P_IP) ? 4 : 6);
		if (act != GW_NOT_OURS) {
			struct xt_tun_stats *st = xt_stats_of(d.t);

			if (st) {
				st->rx_packets++;
				st->rx_bytes += d.inner_len;
			}
			return act;
		}
	}
	act = decap_redirect(ctx, &d);
	if (act < 0) {
		reason = XT_R_DROP_ADJUST;
		goto drop;
	}
	xt_count(XT_R_DECAP);
	return act;

drop:
	xt_count(reason);
	if (d.t) {
		struct xt_tun_stats *st = xt_stats_of(d.t);

		if (st)
			st->rx_dropped++;
	}
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
