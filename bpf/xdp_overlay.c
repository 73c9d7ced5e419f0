// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* XDP on an overlay netdev. A veth only receives redirected frames in NAPI
 * mode, which an attached XDP program turns on; frames go to the stack.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

SEC("xdp")
int xt_xdp_overlay(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
