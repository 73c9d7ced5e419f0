/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One's complement sums over skb bytes, for checksums BPF must fill in. */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "csum.h"

#define SKB_CSUM_CHUNK 128
/* At most 1536 bytes are summed: a packet of a 1500-byte underlay. The
 * verifier walks each chunk, so more would not load.
 */
#define SKB_CSUM_CHUNKS 12

/* Adds len bytes of skb from off to the one's complement sum *sum, an odd
 * last byte padded with zero. Returns nonzero on failure or when len is
 * more than SKB_CSUM_CHUNKS chunks.
 */
static __always_inline int skb_csum_add(struct __sk_buff *skb, __u32 off, __u32 len, __u64 *sum)
{
	__u8 buf[SKB_CSUM_CHUNK + 4];
	__u32 done, n;
	__s64 s;

	if (len > SKB_CSUM_CHUNKS * SKB_CSUM_CHUNK)
		return -1;
	for (int i = 0; i < SKB_CSUM_CHUNKS; i++) {
		done = i * SKB_CSUM_CHUNK;
		if (done >= len)
			break;
		n = len - done;
		if (n > SKB_CSUM_CHUNK)
			n = SKB_CSUM_CHUNK;
		else
			__builtin_memset(buf, 0, sizeof(buf));
		/* 1..SKB_CSUM_CHUNK, in a form the verifier can follow. */
		n = ((n - 1) & (SKB_CSUM_CHUNK - 1)) + 1;
		if (bpf_skb_load_bytes(skb, off + done, buf, n))
			return -1;
		s = bpf_csum_diff(NULL, 0, (__be32 *)buf, (n + 3) & ~3U, 0);
		if (s < 0)
			return -1;
		*sum += (__u32)s;
	}
	return 0;
}

static __always_inline __sum16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return csum_fold((__u32)sum);
}
