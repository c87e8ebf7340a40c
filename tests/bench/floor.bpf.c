// SPDX-License-Identifier: Apache-2.0
/*
 * The floor of every benchmark: programs that only return, measured with
 * the same call pattern as the program under test, so that what the test-run
 * harness and the hook itself cost can be subtracted. xdp.frags like
 * texporter_xdp, so both take the same path through the kernel.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int floor_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int floor_tc(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Apache-2.0";
