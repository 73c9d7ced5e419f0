/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ECN across tunnels, RFC 6040 normal mode. */
#pragma once

#include <linux/types.h>

#define ECN_MASK 3
#define ECN_NOT_ECT 0
#define ECN_ECT_1 1
#define ECN_ECT_0 2
#define ECN_CE 3

/* Outer ECN for an inner one: copied, except CE becomes ECT(0). */
static __always_inline __u8 ecn_encap(__u8 outer_tos, __u8 inner_tos)
{
	__u8 ecn = inner_tos & ECN_MASK;

	if (ecn == ECN_CE)
		ecn = ECN_ECT_0;
	return (outer_tos & ~ECN_MASK) | ecn;
}
