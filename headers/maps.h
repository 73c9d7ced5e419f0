/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Maps shared by every program. Each object declares all of them, so the
 * loader can hand one program's maps to the others (and pin them once).
 */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xtunnel.h"

/* Overlay ifindex -> tunnel: TC egress encap. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_TUNNELS);
	__type(key, __u32);
	__type(value, struct xt_tunnel);
} xt_encap SEC(".maps");

/* Veth peer ifindex -> overlay ifindex: the slow TX path's tunnel. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_TUNNELS);
	__type(key, __u32);
	__type(value, __u32);
} xt_peers SEC(".maps");

/* Outer (local, remote, proto, key) -> tunnel: XDP decap. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_TUNNELS);
	__type(key, struct xt_decap_key);
	__type(value, struct xt_tunnel);
} xt_decap SEC(".maps");

/* Veth peers of overlay netdevs: where decapsulated frames are sent. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XT_MAX_TUNNELS);
	__type(key, __u32);
	__type(value, __u32);
} xt_devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_MAX_TUNNELS);
	__type(key, __u32);
	__type(value, struct xt_tun_stats);
} xt_tstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_R_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xt_reasons SEC(".maps");

/* FOU/GUE receive ports. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_PORTS);
	__type(key, struct xt_fou_key);
	__type(value, struct xt_fou_port);
} xt_fou SEC(".maps");

/* Rate limit of the ICMP errors xtunnel sends, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_ratelimit);
} xt_icmp_rl SEC(".maps");

/* Underlay netdevs xtunnel is attached to (control plane only). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct xt_port);
} xt_ports SEC(".maps");

/* Inner destination prefix -> route (external tunnels, gateway mode). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XT_MAX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_route_key);
	__type(value, struct xt_route);
} xt_routes SEC(".maps");

/* Host routes (/32, /128, key prefixlen 128): an exact match, looked up
 * before xt_routes, so the cost of a gateway's many peer routes does not
 * grow with the depth of the LPM trie.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_route_key);
	__type(value, struct xt_route);
} xt_hosts SEC(".maps");

/* Peers of external tunnels: (outer source, key, protocol) -> overlay
 * ifindex (its xt_encap entry).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_peer_key);
	__type(value, __u32);
} xt_rpeers SEC(".maps");

/* Ethernet tunnels without a fixed remote: destination MAC -> remote. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_FDB);
	__type(key, struct xt_fdb_key);
	__type(value, struct xt_fdb_entry);
} xt_fdb SEC(".maps");

/* Netdevs whose frames are copied to an ERSPAN device (xt_tc_mirror). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_MIRRORS);
	__type(key, struct xt_mirror_key);
	__type(value, struct xt_mirror);
} xt_mirrors SEC(".maps");

/* The route to dst (16 bytes, IPv4-mapped for IPv4): a host route, else
 * the longest prefix.
 */
static __always_inline struct xt_route *xt_route_lookup(const __u8 *dst)
{
	struct xt_route_key k = { .prefixlen = 128 };
	struct xt_route *r;

	__builtin_memcpy(k.addr, dst, 16);
	r = bpf_map_lookup_elem(&xt_hosts, &k);
	if (r)
		return r;
	return bpf_map_lookup_elem(&xt_routes, &k);
}

static __always_inline void xt_count(enum xt_reason reason)
{
	__u32 key = reason;
	__u64 *n = bpf_map_lookup_elem(&xt_reasons, &key);

	if (n)
		*n += 1;
}

static __always_inline struct xt_tun_stats *xt_stats_of(const struct xt_tunnel *t)
{
	__u32 id = t->id;

	return bpf_map_lookup_elem(&xt_tstats, &id);
}
