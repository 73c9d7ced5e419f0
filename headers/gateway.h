/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Gateway mode, in XDP on an attached NIC whose xt_ports entry has
 * gateway set: plain IP packets routed into a tunnel (xt_routes) are
 * encapsulated and sent out here, and decapsulated packets for a
 * destination behind another attached NIC are forwarded there, with MACs
 * from bpf_fib_lookup and TTL decremented as a router does. Whatever XDP
 * cannot finish goes to the stack, counted by reason.
 */
#pragma once

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xtunnel.h"
#include "maps.h"
#include "parsing.h"
#include "csum.h"
#include "encap.h"

#define GW_NOT_OURS -1 /* not a gateway packet: the caller goes on */

/* A flow hash for the UDP source port (FOU/GUE): XDP has no skb hash. */
static __always_inline __u32 gw_mix(__u32 h, __u32 v)
{
	h ^= v;
	h *= 0x9e3779b1;
	return h ^ (h >> 15);
}

static __always_inline int gw_port(__u32 ifindex)
{
	struct xt_port *p = bpf_map_lookup_elem(&xt_ports, &ifindex);

	return p && p->gateway;
}

/* Decrements the TTL / hop limit of the IP header at ip (family 4 or 6). */
static __always_inline void gw_ttl_dec(void *ip, __u8 family)
{
	if (family == 4) {
		struct iphdr *h = ip;
		__be16 old = *(__be16 *)&h->ttl;

		h->ttl--;
		h->check = csum_replace2(h->check, old, *(__be16 *)&h->ttl);
	} else {
		((struct ipv6hdr *)ip)->hop_limit--;
	}
}

/* Asks the FIB for the next hop to dst (IPv4-mapped for IPv4) from src, a
 * packet of tot_len bytes arriving on ifindex. Returns XT_R_DECAP with fib
 * filled, or the reason the stack should have the packet.
 */
static __always_inline __u32 gw_fib(struct xdp_md *ctx, struct bpf_fib_lookup *fib, const __u8 *src,
				    const __u8 *dst, __u32 tot_len)
{
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	if (dst[10] == 0xff && dst[11] == 0xff && !(dst[0] | dst[1] | dst[8] | dst[9])) {
		fib->family = 2; /* AF_INET */
		__builtin_memcpy(&fib->ipv4_src, src + 12, 4);
		__builtin_memcpy(&fib->ipv4_dst, dst + 12, 4);
	} else {
		fib->family = 10; /* AF_INET6 */
		__builtin_memcpy(fib->ipv6_src, src, 16);
		__builtin_memcpy(fib->ipv6_dst, dst, 16);
	}
	fib->tot_len = tot_len;
	fib->ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS)
		return gw_port(fib->ifindex) || fib->ifindex == ctx->ingress_ifindex ?
			       XT_R_DECAP :
			       XT_R_PASS_GW_PORT;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return XT_R_PASS_GW_NO_NEIGH;
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return XT_R_PASS_GW_MTU;
	return XT_R_PASS_GW_FIB;
}

/* Sends the frame out of fib->ifindex: back where it came (XDP_TX) or
 * through the devmap, which holds every attached NIC.
 */
static __always_inline int gw_send(struct xdp_md *ctx, const struct bpf_fib_lookup *fib)
{
	if (fib->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect_map(&xt_devmap, fib->ifindex, 0);
}

/* A plain IP packet on a gateway port: encapsulated and sent when a route
 * takes it into a tunnel XDP can finish; else GW_NOT_OURS (no route, or
 * not for this path: the caller passes it), or XDP_PASS with the reason
 * counted. A global function: verified once.
 */
__noinline int xt_gw_encap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cursor c = { .pos = data, .end = data_end };
	struct bpf_fib_lookup fib;
	struct xt_tun_stats *st;
	struct xt_scratch *sc;
	struct inner_info *in;
	struct xt_tunnel *t;
	struct xt_route *r;
	struct ethhdr *eth;
	__u32 zero = 0, olen, reason, len;
	__u8 family;

	eth = cursor_pull(&c, sizeof(*eth));
	if (!eth)
		return GW_NOT_OURS;
	sc = bpf_map_lookup_elem(&xt_scratch, &zero);
	if (!sc)
		return GW_NOT_OURS;
	in = &sc->in;
	__builtin_memset(in, 0, sizeof(*in));
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *h = cursor_pull(&c, sizeof(*h));

		if (!h || h->version != 4 || h->ihl < 5)
			return GW_NOT_OURS;
		/* Left to the stack: a length it drops (past the frame, short
		 * of the header), a destination it never routes (multicast,
		 * limited broadcast).
		 */
		len = bpf_ntohs(h->tot_len);
		if (len < h->ihl * 4 || (void *)h + len > data_end ||
		    (h->daddr & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000) ||
		    h->daddr == 0xffffffff)
			return GW_NOT_OURS;
		family = 4;
		in->family = XT_F_INNER4;
		in->proto = eth->h_proto;
		in->tos = h->tos;
		in->ttl = h->ttl;
		in->df = !!(h->frag_off & bpf_htons(IP_DF));
		in->len = len;
		in->hash = gw_mix(gw_mix(h->saddr, h->daddr), h->protocol);
		if (h->ihl == 5 && (h->protocol == IPPROTO_TCP || h->protocol == IPPROTO_UDP)) {
			__u32 *ports = cursor_pull(&c, 4);

			if (ports)
				in->hash = gw_mix(in->hash, *ports);
		}
		in->dst[10] = 0xff;
		in->dst[11] = 0xff;
		__builtin_memcpy(in->dst + 12, &h->daddr, 4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *h = cursor_pull(&c, sizeof(*h));

		if (!h || h->version != 6)
			return GW_NOT_OURS;
		/* Likewise: past the frame, multicast, link-local (fe80::/10). */
		len = sizeof(*h) + bpf_ntohs(h->payload_len);
		if ((void *)h + len > data_end || h->daddr.in6_u.u6_addr8[0] == 0xff ||
		    (h->daddr.in6_u.u6_addr8[0] == 0xfe &&
		     (h->daddr.in6_u.u6_addr8[1] & 0xc0) == 0x80))
			return GW_NOT_OURS;
		family = 6;
		in->family = XT_F_INNER6;
		in->proto = eth->h_proto;
		in->tos = (h->priority << 4) | (h->flow_lbl[0] >> 4);
		in->ttl = h->hop_limit;
		in->flowlabel = *(__be32 *)h & bpf_htonl(0x000fffff);
		in->len = len;
		in->hash = gw_mix(gw_mix(*(__u32 *)&h->saddr.in6_u.u6_addr32[3],
					 *(__u32 *)&h->daddr.in6_u.u6_addr32[3]),
				  h->nexthdr);
		__builtin_memcpy(in->dst, &h->daddr, 16);
	} else {
		return GW_NOT_OURS;
	}
	r = xt_route_lookup(in->dst);
	if (!r)
		return GW_NOT_OURS;
	t = bpf_map_lookup_elem(&xt_encap, &r->ifindex);
	if (!t || (t->flags & XT_F_ETH) || !(t->flags & in->family))
		return GW_NOT_OURS;
	/* Only what the stack would forward: a prefix route (a default one,
	 * say) may cover this host's own addresses, which the stack delivers
	 * before it routes anything. route add puts a kernel route into the
	 * tunnel beside every xtunnel route, so the FIB says "not forwarded"
	 * only for those (or where a user took that route away). Host routes
	 * (plen 128 as stored) name a destination elsewhere: no lookup.
	 */
	if (r->plen < 128) {
		__builtin_memset(&fib, 0, sizeof(fib));
		if (family == 4) {
			fib.family = 2; /* AF_INET */
			__builtin_memcpy(&fib.ipv4_dst, in->dst + 12, 4);
		} else {
			fib.family = 10; /* AF_INET6 */
			__builtin_memcpy(fib.ipv6_dst, in->dst, 16);
		}
		fib.ifindex = ctx->ingress_ifindex;
		if (bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH) ==
		    BPF_FIB_LKUP_RET_NOT_FWDED)
			return GW_NOT_OURS;
	}
	if (in->ttl <= 1) {
		reason = XT_R_PASS_GW_TTL;
		goto pass;
	}
	if (t->flags & XT_F_SLOW_TX) {
		reason = XT_R_PASS_GW_SLOW;
		goto pass;
	}
	__builtin_memcpy(in->local, t->local, 16);
	__builtin_memcpy(in->remote, t->remote, 16);
	in->okey = t->okey;
	in->okey_on = !!(t->flags & XT_F_OKEY);
	in->ottl = t->ttl;
	in->otos = t->tos;
	in->otos_inherit = !!(t->flags & XT_F_TOS_INHERIT);
	if ((t->flags & XT_F_EXTERNAL) && route_to(t, in) != XT_R_ENCAP)
		return GW_NOT_OURS;
	/* A router forwards with one hop less; the outer header inherits it. */
	in->ttl--;
	olen = xt_build_outer(t, in, sc);
	if (!olen || olen > OUTER_MAX)
		return GW_NOT_OURS;
	reason = gw_fib(ctx, &fib, in->local, in->remote, in->len + olen);
	if (reason != XT_R_DECAP)
		goto pass;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) +
		    (family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) >
	    data_end)
		return GW_NOT_OURS;
	gw_ttl_dec(data + sizeof(struct ethhdr), family);
	if (bpf_xdp_adjust_head(ctx, -(int)olen))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	eth->h_proto = (t->flags & XT_F_OUTER6) ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	if (bpf_xdp_store_bytes(ctx, sizeof(*eth), sc->outer, olen))
		return XDP_DROP;
	st = xt_stats_of(t);
	if (st) {
		st->tx_packets++;
		st->tx_bytes += in->len;
	}
	xt_count(XT_R_GW_ENCAP);
	return gw_send(ctx, &fib);

pass:
	xt_count(reason);
	return XDP_PASS;
}

/* A decapsulated IP packet (inner header at inner_off, family 4 or 6) on
 * a gateway port: forwarded out of an attached NIC when the FIB says so.
 * Returns the XDP action, or GW_NOT_OURS to hand it to the tunnel netdev.
 */
__noinline int xt_gw_decap(struct xdp_md *ctx, __u32 inner_off, __u32 inner_len, __u32 family)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup fib;
	__u8 src[16] = {}, dst[16] = {};
	struct ethhdr *eth;
	__u8 ttl;
	void *ip;

	if (inner_off > 512)
		return GW_NOT_OURS;
	ip = data + inner_off;
	if (family == 4) {
		struct iphdr *h = ip;

		if ((void *)(h + 1) > data_end)
			return GW_NOT_OURS;
		src[10] = dst[10] = 0xff;
		src[11] = dst[11] = 0xff;
		__builtin_memcpy(src + 12, &h->saddr, 4);
		__builtin_memcpy(dst + 12, &h->daddr, 4);
		ttl = h->ttl;
	} else {
		struct ipv6hdr *h = ip;

		if ((void *)(h + 1) > data_end)
			return GW_NOT_OURS;
		__builtin_memcpy(src, &h->saddr, 16);
		__builtin_memcpy(dst, &h->daddr, 16);
		ttl = h->hop_limit;
	}
	if (ttl <= 1)
		return GW_NOT_OURS; /* the stack answers with time exceeded */
	if (gw_fib(ctx, &fib, src, dst, inner_len) != XT_R_DECAP)
		return GW_NOT_OURS;
	gw_ttl_dec(ip, family);
	if (bpf_xdp_adjust_head(ctx, (int)inner_off - (int)sizeof(*eth)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	eth->h_proto = family == 4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	xt_count(XT_R_GW_DECAP);
	return gw_send(ctx, &fib);
}
