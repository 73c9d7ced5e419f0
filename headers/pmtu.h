/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Path MTU on the TC encap path, after the kernel's ip_tunnel
 * (tnl_update_pmtu, icmp_ndo_send, icmpv6_ndo_send).
 *
 * A packet whose encapsulation would not fit the underlay MTU is dropped.
 * When its sender can do something about it (inner IPv4 with DF on a tunnel
 * without ignore-df, or inner IPv6) it gets an ICMP "fragmentation needed"
 * (RFC 1191) or an ICMPv6 "packet too big" (RFC 4443) built in the skb
 * itself and sent back into the host on the overlay netdev, as if the
 * tunnel had answered. The MTU reported is the underlay MTU less the outer
 * headers (at least 1280 for IPv6, at least 68 for IPv4).
 *
 * Everything else too big is dropped and counted as tx_too_big: there is
 * no slow path to fragment the inner packet (the stack already fragmented
 * it to the overlay MTU before TC egress) or the outer one. Neither is an
 * error sent when the sender could not use it: an IPv6 packet of 1280
 * bytes or less, or a packet an ICMP error must not answer (RFC 1122
 * 3.2.2, RFC 4443 2.4 (e)).
 *
 * There is no address of our own here: the error's source is the inner
 * packet's destination. Unlike the tunnel's underlay address it is routed
 * through the overlay netdev the error arrives on, so rp_filter accepts it,
 * and senders take it as the path's answer about that destination.
 *
 * GSO skbs are judged by their segments, as ip_forward / ip6_forward
 * judge them (skb_gso_validate_network_len), and answered the same way:
 * the error is built from the first bytes of the whole skb, which
 * bpf_skb_change_tail turns into a plain one (skb_gso_reset).
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
#include "csum.h"
#include "encap.h"
#include "skbcsum.h"

/* Rate limit, per CPU: a token bucket of PMTU_BURST errors refilled with
 * PMTU_RATE per second. xt_ratelimit.tokens counts whole errors;
 * last_ns is when the bucket was last refilled (bpf_ktime_get_ns).
 */
#define PMTU_RATE 100
#define PMTU_BURST 50
#define PMTU_NS_PER_TOKEN (1000000000ULL / PMTU_RATE)

#define PMTU_ICMP4_MAX 576  /* largest ICMP error, IP header included (icmp_send) */
#define PMTU_ICMP6_MAX 1280 /* RFC 4443 2.4 (c): the IPv6 minimum MTU */
#define PMTU_IPV4_MIN_MTU 68
#define PMTU_IPV6_MIN_MTU 1280
#define PMTU_HOPS 64 /* TTL and hop limit of the errors: the sysctl defaults */
#define PMTU_IP_OFFSET 0x1fff

/* From linux/icmp.h and linux/icmpv6.h, which pull in libc headers. */
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define NR_ICMP_TYPES 18
#define ICMPV6_PKT_TOOBIG 2
#define ICMPV6_INFOMSG_MASK 0x80

/* The ICMP and ICMPv6 header of both errors. */
struct pmtu_icmp {
	__u8 type;
	__u8 code;
	__sum16 check;
	__be32 mtu; /* ICMP: 16 bits unused, then the next-hop MTU; ICMPv6: the MTU */
};

struct pmtu_hdr4 {
	struct iphdr ip;
	struct pmtu_icmp icmp;
};

struct pmtu_hdr6 {
	struct ipv6hdr ip;
	struct pmtu_icmp icmp;
};

/* Takes one token from this CPU's bucket. Returns 0 when it is empty. */
static __always_inline int pmtu_rate_ok(void)
{
	__u32 key = 0;
	struct xt_ratelimit *rl = bpf_map_lookup_elem(&xt_icmp_rl, &key);
	__u64 now = bpf_ktime_get_ns(), add;

	if (!rl)
		return 0;
	if (now > rl->last_ns) {
		add = (now - rl->last_ns) / PMTU_NS_PER_TOKEN;
		if (add >= PMTU_BURST || rl->tokens + add >= PMTU_BURST) {
			rl->tokens = PMTU_BURST;
			rl->last_ns = now;
		} else if (add) {
			rl->tokens += add;
			rl->last_ns += add * PMTU_NS_PER_TOKEN;
		}
	}
	if (!rl->tokens)
		return 0;
	rl->tokens--;
	return 1;
}

/* Turns skb, an Ethernet frame around the too big inner packet, into the
 * error: Ethernet as a decapsulated frame has it, the hlen bytes of hdr
 * (IP header, then ICMP header with a zero checksum) and the first quote
 * bytes of the inner packet. sum is the pseudo-header sum (ICMPv6).
 */
static __always_inline __u32 pmtu_build(struct __sk_buff *skb, const struct xt_tunnel *t, void *hdr,
					__u32 hlen, __u32 l3len, __u32 quote, __be16 proto,
					__u64 sum)
{
	struct ethhdr eth;
	__sum16 check;

	if (bpf_skb_change_tail(skb, ETH_HLEN + quote, 0) ||
	    bpf_skb_adjust_room(skb, hlen, BPF_ADJ_ROOM_MAC, 0))
		return XT_R_TX_ADJUST;
	__builtin_memcpy(eth.h_dest, t->mac, ETH_ALEN);
	__builtin_memcpy(eth.h_source, t->peer_mac, ETH_ALEN);
	eth.h_proto = proto;
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, hdr, hlen, 0))
		return XT_R_TX_ADJUST;
	if (skb_csum_add(skb, ETH_HLEN + l3len, hlen - l3len + quote, &sum))
		return XT_R_TX_ADJUST;
	check = csum_fold64(sum);
	/* The checksum sits 2 bytes into both ICMP headers. */
	if (bpf_skb_store_bytes(skb, ETH_HLEN + l3len + 2, &check, sizeof(check), 0))
		return XT_R_TX_ADJUST;
	return XT_R_TX_PMTU_ICMP;
}

static __always_inline int pmtu_icmp4_is_error(__u8 type)
{
	return type > NR_ICMP_TYPES || type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH ||
	       type == ICMP_REDIRECT || type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* Whether an ICMP error may answer ip (RFC 1122 3.2.2, icmp_send): not
 * about a later fragment, an ICMP error, a packet from an address that is
 * no host's, or one sent to a multicast or broadcast address.
 */
static __always_inline int pmtu_answerable4(struct __sk_buff *skb, const struct iphdr *ip)
{
	__u32 src = bpf_ntohl(ip->saddr), dst = bpf_ntohl(ip->daddr);
	__u8 type;

	if (ip->frag_off & bpf_htons(PMTU_IP_OFFSET))
		return 0;
	if (!src || (src >> 28) >= 0xe || (dst >> 28) >= 0xe)
		return 0;
	if (ip->protocol == IPPROTO_ICMP) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + ip->ihl * 4, &type, sizeof(type)))
			return 0;
		if (pmtu_icmp4_is_error(type))
			return 0;
	}
	return 1;
}

/* ICMP fragmentation needed with next-hop MTU mtu for inner IPv4 in. */
static __always_inline __u32 pmtu_icmp4(struct __sk_buff *skb, const struct xt_tunnel *t,
					const struct inner_info *in, __u32 mtu)
{
	struct pmtu_hdr4 h = {};
	struct iphdr ip;
	__u32 quote = in->len;

	if (mtu < PMTU_IPV4_MIN_MTU)
		mtu = PMTU_IPV4_MIN_MTU;
	if (in->len <= mtu)
		return XT_R_TX_TOO_BIG;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || !pmtu_answerable4(skb, &ip))
		return XT_R_TX_TOO_BIG;
	if (!pmtu_rate_ok())
		return XT_R_TX_PMTU_LIMITED;
	if (quote > PMTU_ICMP4_MAX - sizeof(h))
		quote = PMTU_ICMP4_MAX - sizeof(h);

	h.ip.version = 4;
	h.ip.ihl = 5;
	/* icmp_send: precedence internetwork control, the rest of the TOS
	 * kept; the ECN bits cleared, ICMP is not ECN-capable.
	 */
	h.ip.tos = IPTOS_PREC_INTERNETCONTROL | (ip.tos & IPTOS_TOS_MASK & ~ECN_MASK);
	h.ip.tot_len = bpf_htons(sizeof(h) + quote);
	h.ip.id = (__be16)bpf_get_prandom_u32();
	h.ip.ttl = PMTU_HOPS;
	h.ip.protocol = IPPROTO_ICMP;
	h.ip.saddr = ip.daddr;
	h.ip.daddr = ip.saddr;
	h.ip.check = ipv4_csum(&h.ip);
	h.icmp.type = ICMP_DEST_UNREACH;
	h.icmp.code = ICMP_FRAG_NEEDED;
	h.icmp.mtu = bpf_htonl(mtu);
	return pmtu_build(skb, t, &h, sizeof(h), sizeof(h.ip), quote, bpf_htons(ETH_P_IP), 0);
}

/* Whether an ICMPv6 error may answer ip (RFC 4443 2.4 (e)): not one from
 * the unspecified or a multicast address, nor an ICMPv6 error. Packet too
 * big may answer a multicast destination, but we would have no unicast
 * source address to send it from.
 */
static __always_inline int pmtu_answerable6(struct __sk_buff *skb, const struct ipv6hdr *ip)
{
	const __u32 *s = (const __u32 *)&ip->saddr;
	__u8 type;

	if (!(s[0] | s[1] | s[2] | s[3]))
		return 0;
	if (ip->saddr.in6_u.u6_addr8[0] == 0xff || ip->daddr.in6_u.u6_addr8[0] == 0xff)
		return 0;
	if (ip->nexthdr == IPPROTO_ICMPV6) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(*ip), &type, sizeof(type)))
			return 0;
		if (!(type & ICMPV6_INFOMSG_MASK))
			return 0;
	}
	return 1;
}

/* ICMPv6 packet too big with MTU mtu for inner IPv6 in. */
static __always_inline __u32 pmtu_icmp6(struct __sk_buff *skb, const struct xt_tunnel *t,
					const struct inner_info *in, __u32 mtu)
{
	struct pmtu_hdr6 h = {};
	struct ipv6hdr ip;
	__u32 quote = in->len, *w;
	__u64 sum = 0;

	if (mtu < PMTU_IPV6_MIN_MTU)
		mtu = PMTU_IPV6_MIN_MTU;
	if (in->len <= mtu)
		return XT_R_TX_TOO_BIG;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || !pmtu_answerable6(skb, &ip))
		return XT_R_TX_TOO_BIG;
	if (!pmtu_rate_ok())
		return XT_R_TX_PMTU_LIMITED;
	if (quote > PMTU_ICMP6_MAX - sizeof(h))
		quote = PMTU_ICMP6_MAX - sizeof(h);

	/* Traffic class and flow label 0. */
	*(__be32 *)&h.ip = bpf_htonl(0x60000000);
	h.ip.payload_len = bpf_htons(sizeof(h.icmp) + quote);
	h.ip.nexthdr = IPPROTO_ICMPV6;
	h.ip.hop_limit = PMTU_HOPS;
	h.ip.saddr = ip.daddr;
	h.ip.daddr = ip.saddr;
	h.icmp.type = ICMPV6_PKT_TOOBIG;
	h.icmp.mtu = bpf_htonl(mtu);

	/* Pseudo-header: addresses, upper-layer length, next header. */
	w = (__u32 *)&h.ip.saddr;
#pragma unroll
	for (int i = 0; i < 8; i++)
		sum += w[i];
	sum += bpf_htonl(sizeof(h.icmp) + quote) + (__u64)bpf_htonl(IPPROTO_ICMPV6);
	return pmtu_build(skb, t, &h, sizeof(h), sizeof(h.ip), quote, bpf_htons(ETH_P_IPV6), sum);
}

/* The MTU check of the encap path. Returns XT_R_ENCAP when t's outer
 * headers fit in front of the packet on the underlay; otherwise the packet
 * is to be dropped, and the reason says whether skb became an ICMP error
 * to redirect to the overlay's ingress (XT_R_TX_PMTU_ICMP).
 */
static __always_inline __u32 pmtu_check(struct __sk_buff *skb, const struct xt_tunnel *t,
					const struct inner_info *in)
{
	__u32 olen = outer_len(t, in) + in->l2_len, mtu = 0;
	long ret;

	ret = bpf_check_mtu(skb, t->link_ifindex, &mtu, olen, 0);
	/* That passes every GSO skb. encap() lowers gso_size by olen (no
	 * BPF_F_ADJ_ROOM_FIXED_GSO), so each outer segment will be as long
	 * as an inner segment is now: those must fit the underlay MTU. When
	 * the kernel cannot measure them (-EINVAL: no transport header),
	 * the skb goes on as it did before this check.
	 */
	if (ret == BPF_MTU_CHK_RET_SUCCESS && skb->gso_size) {
		mtu = 0;
		ret = bpf_check_mtu(skb, t->link_ifindex, &mtu, 0, BPF_MTU_CHK_SEGS);
		if (ret < 0)
			ret = BPF_MTU_CHK_RET_SUCCESS;
	}
	if (ret == BPF_MTU_CHK_RET_SUCCESS)
		return XT_R_ENCAP;
	if (ret != BPF_MTU_CHK_RET_FRAG_NEEDED && ret != BPF_MTU_CHK_RET_SEGS_TOOBIG)
		return XT_R_TX_TOO_BIG;
	mtu = mtu > olen ? mtu - olen : 0;
	if (in->family == XT_F_INNER4 && in->df && !(t->flags & XT_F_IGNORE_DF))
		return pmtu_icmp4(skb, t, in, mtu);
	if (in->family == XT_F_INNER6)
		return pmtu_icmp6(skb, t, in, mtu);
	return XT_R_TX_TOO_BIG;
}
