/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* GRE (RFC 2784, RFC 2890). */
#pragma once

#include <linux/types.h>

#define GRE_F_CSUM 0x8000
#define GRE_F_ROUTING 0x4000
#define GRE_F_KEY 0x2000
#define GRE_F_SEQ 0x1000
#define GRE_F_SSR 0x0800 /* strict source route (RFC 1701) */
#define GRE_VERSION 0x0007

struct gre_base {
	__be16 flags;
	__be16 proto;
};
