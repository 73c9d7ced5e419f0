/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A bounds-checked cursor over packet data. */
#pragma once

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct cursor {
	void *pos;
	void *end;
};

/* Returns the next len bytes and advances, or NULL if they are not there. */
static __always_inline void *cursor_pull(struct cursor *c, __u32 len)
{
	void *p = c->pos;

	if (p + len > c->end)
		return NULL;
	c->pos = p + len;
	return p;
}

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* Parses Ethernet and up to two VLAN tags. Returns the ethertype in network
 * order, or 0 if the frame is truncated.
 */
static __always_inline __be16 parse_eth(struct cursor *c)
{
	struct ethhdr *eth = cursor_pull(c, sizeof(*eth));
	struct vlan_tag *tag;
	__be16 proto;

	if (!eth)
		return 0;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		tag = cursor_pull(c, sizeof(*tag));
		if (!tag)
			return 0;
		proto = tag->proto;
	}
	return proto;
}
