/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* IPv6 extension headers and the tunnel encapsulation limit (RFC 2473). */
#pragma once

#include <linux/types.h>
#include <linux/in6.h>

#define IPV6_EXT_MAX 4 /* extension headers walked before giving up */

#define IPV6_TLV_PADN 1
#define IPV6_TLV_TNL_ENCAP_LIMIT 4

struct ipv6_opt_hdr_ {
	__u8 nexthdr;
	__u8 hdrlen; /* 8-octet units, not counting the first 8 */
};

/* The destination options header an ip6tnl puts before its payload:
 * the encapsulation limit option padded to 8 bytes, as the kernel does.
 */
struct ipv6_encap_limit_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
	__u8 opt_type;
	__u8 opt_len;
	__u8 limit;
	__u8 pad_type;
	__u8 pad_len;
	__u8 pad;
};
