/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internet checksum helpers. */
#pragma once

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Checksum of a 20-byte IPv4 header whose check field is zero. */
static __always_inline __u16 ipv4_csum(struct iphdr *iph)
{
	__u16 *w = (__u16 *)iph;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)sizeof(*iph) / 2; i++)
		sum += w[i];
	return csum_fold(sum);
}

/* RFC 1624 incremental update for one 16-bit word changing old -> new. */
static __always_inline __sum16 csum_replace2(__sum16 check, __be16 old, __be16 nv)
{
	__u32 sum = (__u16)~check + (__u16)~old + (__u16)nv;

	return csum_fold(sum);
}

/* Adds the 32-bit one's complement partial sums a and b (end-around carry). */
static __always_inline __u32 csum_add32(__u32 a, __u32 b)
{
	a += b;
	return a + (a < b);
}

/* csum_pkt_add() sums packet memory in CSUM_PKT_CHUNK-byte calls of
 * bpf_csum_diff (a multiple of 4, at most 512), up to CSUM_PKT_CHUNKS of
 * them, then what is left in halving steps and the last 1-3 bytes by hand.
 */
#define CSUM_PKT_CHUNK 256
#define CSUM_PKT_CHUNKS 12
/* The longest run csum_pkt_add() sums. */
#define CSUM_PKT_MAX (CSUM_PKT_CHUNKS * CSUM_PKT_CHUNK + CSUM_PKT_CHUNK - 1)

/* One halving step of csum_pkt_add(): n bytes at *p when len has bit n. */
#define CSUM_PKT_STEP(n)                                                        \
	do {                                                                    \
		if (len & (n)) {                                                \
			if (p + (n) > end)                                      \
				return -1;                                      \
			s = bpf_csum_diff(NULL, 0, (__be32 *)p, (n), (__u32)s); \
			if (s < 0)                                              \
				return -1;                                      \
			p += (n);                                               \
		}                                                               \
	} while (0)

/* Adds the len bytes at p, which lie in packet memory before end, to the
 * one's complement sum *sum (in memory order, like csum_partial), an odd
 * last byte padded with zero; p must be 16-bit aligned relative to where
 * the checksummed data starts. Returns nonzero, *sum unchanged, when len is
 * over CSUM_PKT_MAX or the bytes are not all before end.
 */
static __always_inline int csum_pkt_add(void *p, __u32 len, void *end, __u32 *sum)
{
	union {
		__u8 b[4];
		__u32 w;
	} tail = {};
	__u8 *b;
	__s64 s = 0;

	if (len > CSUM_PKT_MAX)
		return -1;
	for (int i = 0; i < CSUM_PKT_CHUNKS; i++) {
		if (len < CSUM_PKT_CHUNK)
			break;
		if (p + CSUM_PKT_CHUNK > end)
			return -1;
		s = bpf_csum_diff(NULL, 0, (__be32 *)p, CSUM_PKT_CHUNK, (__u32)s);
		if (s < 0)
			return -1;
		p += CSUM_PKT_CHUNK;
		len -= CSUM_PKT_CHUNK;
	}
	if (len >= CSUM_PKT_CHUNK)
		return -1;
	CSUM_PKT_STEP(128);
	CSUM_PKT_STEP(64);
	CSUM_PKT_STEP(32);
	CSUM_PKT_STEP(16);
	CSUM_PKT_STEP(8);
	CSUM_PKT_STEP(4);
	b = p;
	if (len & 3) {
		if ((void *)(b + 1) > end)
			return -1;
		tail.b[0] = b[0];
	}
	if ((len & 3) >= 2) {
		if ((void *)(b + 2) > end)
			return -1;
		tail.b[1] = b[1];
	}
	if ((len & 3) == 3) {
		if ((void *)(b + 3) > end)
			return -1;
		tail.b[2] = b[2];
	}
	*sum = csum_add32((__u32)s, tail.w);
	return 0;
}
