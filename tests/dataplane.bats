#!/usr/bin/env bats
# The data plane: which packets are counted, under which ranges, with how
# many bytes. Real packets cross a veth pair; texporter is loaded on IF_A in
# NS_A, so NS_A's pings count as A->B on egress (TC) and their replies as
# B->A on ingress (XDP, or TC with --ingress tc).
#
# Sizes: `ping -s S` sends L3 packets of 20+8+S bytes (IPv4) or 40+8+S
# (IPv6); sendraw's --l3-size is the L3 size itself.

load helpers

setup() {
	tx_setup_bpffs
	tx_setup_pair
	CONFIG=$BATS_TEST_TMPDIR/ranges.json
}

teardown() {
	tx_teardown
}

# --- helpers of this file ---------------------------------------------------

# The two hosts as ranges of their own, both families.
write_host_ranges() {
	tx_write_config "$CONFIG" "lan=$IP4_A,$IP6_A" "peer=$IP4_B,$IP6_B"
}

load_a() {
	run tx_load "$NS_A" -i "$IF_A" -f "$CONFIG" "$@"
	assert_success
}


# Frames from NS_B into IF_B, so they arrive on IF_A's ingress hook.
sendraw_b() {
	run tx_sendraw "$NS_B" --iface "$IF_B" "$@"
	assert_success
}

# Non-IP frames from NS_B: sendraw_other_b ARP LLDP VLAN_ARP, counts of each.
sendraw_other_b() {
	tx_in "$NS_B" "$PYTHON" - "$IF_B" "$IP4_B" "$IP4_A" "$@" <<-'EOF'
		import socket, struct, sys
		iface, src_ip, dst_ip, arp, lldp, vlan_arp = sys.argv[1:4] + [int(n) for n in sys.argv[4:7]]
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
		s.bind((iface, 0))
		mac = s.getsockname()[4]
		request = (struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + socket.inet_aton(src_ip)
		           + bytes(6) + socket.inet_aton(dst_ip)).ljust(46, b"\0")
		frames = ([b"\xff" * 6 + mac + b"\x08\x06" + request] * arp
		          + [bytes.fromhex("0180c200000e") + mac + b"\x88\xcc" + bytes(46)] * lldp
		          + [b"\xff" * 6 + mac + b"\x81\x00\x00\x0a\x08\x06" + request] * vlan_arp)
		for frame in frames:
		    s.send(frame)
	EOF
}

read_a() {
	run tx_read "$NS_A"
	assert_success
}

# assert_series FAMILY SRC DST PACKETS BYTES, on the reader output in
# $output; SRC and DST as they appear in the output (escaped).
assert_series() {
	local family=$1 src=$2 dst=$3 packets=$4 bytes=$5 labels got_packets got_bytes
	labels="iface=\"$IF_A\",family=\"$family\",src=\"$src\",dst=\"$dst\""
	got_packets=$(tx_metric texporter_captured_packets_total "$labels")
	got_bytes=$(tx_metric texporter_captured_bytes_total "$labels")
	[[ $got_packets == "$packets" && $got_bytes == "$bytes" ]] ||
		fail "{$labels}: want $packets packets, $bytes bytes; got $got_packets packets, $got_bytes bytes
$output"
}

# assert_series_count FAMILY N: exactly N series of FAMILY, for packets and
# for bytes.
assert_series_count() {
	local family=$1 want=$2 metric got
	for metric in texporter_captured_packets_total texporter_captured_bytes_total; do
		got=$(grep -c "^$metric{iface=\"$IF_A\",family=\"$family\"," <<<"$output" || true)
		[[ $got == "$want" ]] ||
			fail "want $want $family series of $metric, got $got
$output"
	done
}

assert_no_dataplane_errors() {
	local reason
	for reason in truncated malformed length; do
		assert_equal "$(tx_metric texporter_dataplane_errors_total \
			"iface=\"$IF_A\",reason=\"$reason\"")" 0
	done
}

# assert_both_ways FAMILY PACKETS BYTES: lan->peer and peer->lan are
# counted exactly so, and FAMILY has no other series.
assert_both_ways() {
	assert_series "$1" lan peer "$2" "$3"
	assert_series "$1" peer lan "$2" "$3"
	assert_series_count "$1" 2
}

# assert_not_counted "ignored N truncated N malformed N length N": the
# frames the last read says were ignored or not counted in full.
assert_not_counted() {
	local reason got="ignored $(tx_metric texporter_ignored_frames_total "iface=\"$IF_A\"")"
	for reason in truncated malformed length; do
		got+=" $reason $(tx_metric texporter_dataplane_errors_total \
			"iface=\"$IF_A\",reason=\"$reason\"")"
	done
	assert_equal "$got" "$1"
}

# The arguments of an MPLS label stack of N labels: 16, 17, ...
mpls_stack() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf -- '--mpls %d ' $((16 + i))
	done
}

assert_attached() {
	local direction=$1 hook=$2 mode=$3
	assert_equal "$(tx_metric texporter_attach_info \
		"iface=\"$IF_A\",direction=\"$direction\",hook=\"$hook\",mode=\"$mode\"")" 1
}


# 4 IPv4 echo requests and replies of 128 L3 bytes (20 + 8 + 100), counted
# exactly in both directions and nowhere else.
assert_ipv4_pings_counted() {
	tx_ping_b ipv4 4 100
	read_a
	assert_series ipv4 lan peer 4 $((4 * 128))
	assert_series ipv4 peer lan 4 $((4 * 128))
	assert_series_count ipv4 2
	assert_series_count ipv6 0
	assert_no_dataplane_errors
}

# --- classification and counts ----------------------------------------------

@test "IPv4 traffic between two named ranges is counted exactly, ingress and egress" {
	write_host_ranges
	load_a
	tx_ping_b ipv4 5 100 # 5 x 128 L3 bytes each way
	read_a
	assert_series ipv4 lan peer 5 640
	assert_series ipv4 peer lan 5 640
	assert_series_count ipv4 2
	assert_series_count ipv6 0
	assert_no_dataplane_errors
	assert_equal "$(tx_metric texporter_ignored_frames_total "iface=\"$IF_A\"")" 0
}

@test "IPv6 traffic between two named ranges is counted exactly, ingress and egress" {
	write_host_ranges
	load_a
	tx_ping_b ipv6 3 200 # 3 x (40 + 8 + 200) = 3 x 248 L3 bytes each way
	read_a
	assert_series ipv6 lan peer 3 744
	assert_series ipv6 peer lan 3 744
	assert_series_count ipv6 2
	assert_series_count ipv4 0
	assert_no_dataplane_errors
}

@test "counts add up over several sizes and both families" {
	write_host_ranges
	load_a
	tx_ping_b ipv4 2 0    # 2 x 28
	tx_ping_b ipv4 3 1000 # 3 x 1028
	tx_ping_b ipv6 2 1    # 2 x 49
	tx_ping_b ipv6 1 1400 # 1 x 1448
	read_a
	assert_series ipv4 lan peer 5 $((2 * 28 + 3 * 1028))
	assert_series ipv4 peer lan 5 $((2 * 28 + 3 * 1028))
	assert_series ipv6 lan peer 3 $((2 * 49 + 1448))
	assert_series ipv6 peer lan 3 $((2 * 49 + 1448))
	assert_series_count ipv4 2
	assert_series_count ipv6 2
}

@test "an address in no range counts under other" {
	tx_write_config "$CONFIG" "peer=$IP4_B,$IP6_B"
	load_a
	tx_ping_b ipv4 3 100
	tx_ping_b ipv6 2 100
	read_a
	assert_series ipv4 other peer 3 $((3 * 128))
	assert_series ipv4 peer other 3 $((3 * 128))
	assert_series ipv6 other peer 2 $((2 * 148))
	assert_series ipv6 peer other 2 $((2 * 148))
	assert_series_count ipv4 2
	assert_series_count ipv6 2
}

@test "--unmatched-name elsewhere renames the unmatched range" {
	tx_write_config "$CONFIG" "peer=$IP4_B,$IP6_B"
	load_a --unmatched-name elsewhere
	tx_ping_b ipv4 3 100
	tx_ping_b ipv6 2 100
	read_a
	assert_series ipv4 elsewhere peer 3 $((3 * 128))
	assert_series ipv4 peer elsewhere 3 $((3 * 128))
	assert_series ipv6 elsewhere peer 2 $((2 * 148))
	assert_series ipv6 peer elsewhere 2 $((2 * 148))
	assert_series_count ipv4 2
	assert_series_count ipv6 2
	refute_output --partial 'src="other"'
	refute_output --partial 'dst="other"'
}

@test "nested prefixes under different names: the longest match wins" {
	# The more specific range first in the file: order must not matter.
	tx_write_config "$CONFIG" "peer=$IP4_B,$IP6_B" "net=10.91.0.0/16,fd00:91::/64" \
		"wide=10.0.0.0/8,fd00::/16"
	load_a
	tx_ping_b ipv4 3 100
	tx_ping_b ipv6 2 100
	read_a
	assert_series ipv4 net peer 3 $((3 * 128))
	assert_series ipv4 peer net 3 $((3 * 128))
	assert_series ipv6 net peer 2 $((2 * 148))
	assert_series ipv6 peer net 2 $((2 * 148))
	assert_series_count ipv4 2
	assert_series_count ipv6 2
}

# --- hooks and modes --------------------------------------------------------

@test "by default ingress is counted by XDP and egress by TC" {
	write_host_ranges
	load_a
	assert_ipv4_pings_counted
	assert_attached ingress xdp native
	assert_attached egress tc "$(tx_default_tc_mode)"
	assert_equal "$(grep -c '^texporter_attach_info{' <<<"$output")" 2
}

@test "--ingress tc counts the same traffic exactly" {
	write_host_ranges
	load_a --ingress tc
	assert_ipv4_pings_counted
	assert_attached ingress tc "$(tx_default_tc_mode)"
	assert_attached egress tc "$(tx_default_tc_mode)"
	assert_equal "$(grep -c '^texporter_attach_info{' <<<"$output")" 2
}

@test "--xdp-mode generic counts the same traffic exactly" {
	write_host_ranges
	load_a --xdp-mode generic
	assert_ipv4_pings_counted
	assert_attached ingress xdp generic
	assert_attached egress tc "$(tx_default_tc_mode)"
	assert_equal "$(grep -c '^texporter_attach_info{' <<<"$output")" 2
}

@test "--tc-mode legacy counts the same traffic exactly" {
	write_host_ranges
	load_a --tc-mode legacy
	assert_ipv4_pings_counted
	assert_attached ingress xdp native
	assert_attached egress tc legacy
	assert_equal "$(grep -c '^texporter_attach_info{' <<<"$output")" 2
}

@test "--ingress tc with --tc-mode legacy counts the same traffic exactly" {
	write_host_ranges
	load_a --ingress tc --tc-mode legacy
	assert_ipv4_pings_counted
	assert_attached ingress tc legacy
	assert_attached egress tc legacy
	assert_equal "$(grep -c '^texporter_attach_info{' <<<"$output")" 2
}

@test "the data plane of kernels before 5.18 (single-buffer XDP, split range table) counts the same, native and generic" {
	export TEXPORTER_FORCE_FALLBACKS=xdp-single,table-split
	write_host_ranges
	load_a
	assert_output --partial "; xdp single-buffer, range table split in 1 element of 4 MiB"
	assert_ipv4_pings_counted
	assert_attached ingress xdp native
	load_a --xdp-mode generic
	tx_ping_b ipv6 3 200 # 3 x 248 L3 bytes each way
	sendraw_b --count 4 --src "$IP4_B" --dst "$IP4_A" --l3-size 200 --vlan 100 --vlan 200
	read_a
	assert_attached ingress xdp generic
	assert_series ipv4 lan peer 4 $((4 * 128))
	assert_series ipv4 peer lan 8 $((4 * 128 + 4 * 200))
	assert_series ipv6 lan peer 3 744
	assert_series ipv6 peer lan 3 744
	assert_no_dataplane_errors
}

# --- what reaches the parser ------------------------------------------------

@test "802.1Q-tagged IPv4 and IPv6 frames are counted by their L3 size" {
	write_host_ranges
	load_a
	sendraw_b --count 5 --src "$IP4_B" --dst "$IP4_A" --l3-size 300 --vlan 10
	sendraw_b --count 3 --src "$IP6_B" --dst "$IP6_A" --l3-size 500 --vlan 4094
	read_a
	assert_series ipv4 peer lan 5 1500
	assert_series ipv6 peer lan 3 1500
	assert_series_count ipv4 1
	assert_series_count ipv6 1
	assert_no_dataplane_errors
	assert_equal "$(tx_metric texporter_ignored_frames_total "iface=\"$IF_A\"")" 0
}

@test "QinQ (802.1ad outer, 802.1Q inner) IPv4 and IPv6 frames are counted by their L3 size" {
	write_host_ranges
	load_a
	sendraw_b --count 4 --src "$IP4_B" --dst "$IP4_A" --l3-size 200 --vlan 100 --vlan 200
	sendraw_b --count 2 --src "$IP6_B" --dst "$IP6_A" --l3-size 700 --vlan 100 --vlan 200
	read_a
	assert_series ipv4 peer lan 4 800
	assert_series ipv6 peer lan 2 1400
	assert_series_count ipv4 1
	assert_series_count ipv6 1
	assert_no_dataplane_errors
	assert_equal "$(tx_metric texporter_ignored_frames_total "iface=\"$IF_A\"")" 0
}

@test "tagged and QinQ frames are counted the same with --ingress tc" {
	# Before TC ingress the kernel moves the outer tag out of the packet
	# data, so this path differs from XDP's.
	write_host_ranges
	load_a --ingress tc
	sendraw_b --count 5 --src "$IP4_B" --dst "$IP4_A" --l3-size 300 --vlan 10
	sendraw_b --count 4 --src "$IP4_B" --dst "$IP4_A" --l3-size 200 --vlan 100 --vlan 200
	sendraw_b --count 3 --src "$IP6_B" --dst "$IP6_A" --l3-size 500 --vlan 10
	sendraw_b --count 2 --src "$IP6_B" --dst "$IP6_A" --l3-size 700 --vlan 100 --vlan 200
	read_a
	assert_series ipv4 peer lan 9 $((1500 + 800))
	assert_series ipv6 peer lan 5 $((1500 + 1400))
	assert_series_count ipv4 1
	assert_series_count ipv6 1
	assert_no_dataplane_errors
}

@test "ARP, LLDP and other non-IP frames count as ignored, not as traffic" {
	write_host_ranges
	load_a
	sendraw_other_b 3 2 1 # ARP requests, LLDP frames, a VLAN-tagged ARP
	read_a
	assert_equal "$(tx_metric texporter_ignored_frames_total "iface=\"$IF_A\"")" 6
	assert_series_count ipv4 0
	assert_series_count ipv6 0
	assert_no_dataplane_errors
}

# --- MPLS, PPPoE, VLAN tags: the same on every hook ---------------------------
#
# Each behaviour is checked on each ingress hook (XDP native, XDP generic,
# TC) with frames sent from NS_B, and on TC egress with the same frames sent
# from NS_A: "both ways" below. TC ingress gets the outer VLAN tag in skb
# metadata, not in the frame; texporter counts it as the first of the two
# tags it looks at, as XDP does.

# Per family: 2 frames for each stack of 1, 2 and 8 labels behind 0, 1 and
# 2 VLAN tags, of 120 L3 bytes (IPv4) or 160 (IPv6), and 2 more as multicast
# MPLS (ethertype 0x8848) with 3 labels: 20 packets each way.
mpls_counted_both_ways() {
	local side labels tags
	for side in a b; do
		for labels in 1 2 8; do
			for tags in "" "--vlan 10" "--vlan 300 --vlan 30"; do
				tx_sendraw_from $side 4 --count 2 --l3-size 120 $(mpls_stack $labels) $tags
				tx_sendraw_from $side 6 --count 2 --l3-size 160 $(mpls_stack $labels) $tags
			done
		done
		tx_sendraw_from $side 4 --count 2 --l3-size 120 $(mpls_stack 3) --ethertype 0x8848
		tx_sendraw_from $side 6 --count 2 --l3-size 160 $(mpls_stack 3) --ethertype 0x8848
	done
	read_a
	assert_both_ways ipv4 20 $((20 * 120))
	assert_both_ways ipv6 20 $((20 * 160))
	assert_not_counted "ignored 0 truncated 0 malformed 0 length 0"
}

@test "MPLS with 1, 2 and 8 labels behind 0, 1 and 2 VLAN tags counts its IPv4 and IPv6 packets, on every hook" {
	write_host_ranges
	tx_on_every_ingress_hook "$CONFIG" mpls_counted_both_ways
}

# 2 frames each way of: a pseudowire control word under the label stack,
# with and without QinQ tags; a payload whose first nibble is neither 4 nor
# 6 (as Ethernet over MPLS without a control word has); a stack of 9
# labels, deeper than texporter looks, with and without a tag.
mpls_not_ip_ignored() {
	local side
	for side in a b; do
		tx_sendraw_from $side 4 --count 2 --mpls 100 --mpls-control-word
		tx_sendraw_from $side 6 --count 2 --mpls 100 --mpls 101 --mpls-control-word \
			--vlan 300 --vlan 30
		tx_sendraw_from $side 4 --count 2 --mpls 100 --bad-version 0
		tx_sendraw_from $side 4 --count 2 $(mpls_stack 9)
		tx_sendraw_from $side 6 --count 2 $(mpls_stack 9) --vlan 10
	done
	read_a
	assert_series_count ipv4 0
	assert_series_count ipv6 0
	assert_not_counted "ignored 20 truncated 0 malformed 0 length 0"
}

@test "MPLS carrying anything but IP (a control word, Ethernet) or more than 8 labels counts as ignored, on every hook" {
	write_host_ranges
	tx_on_every_ingress_hook "$CONFIG" mpls_not_ip_ignored
}

# Per family: 2 PPPoE session frames behind 0, 1 and 2 VLAN tags, of 120
# L3 bytes (IPv4) or 160 (IPv6): 6 packets each way. And 1 frame each of
# what is not IP: PPP's LCP (0xc021) and IPCP (0x8021, tagged), and a
# discovery frame (ethertype 0x8863): 6 ignored.
pppoe_counted_both_ways() {
	local side tags
	for side in a b; do
		for tags in "" "--vlan 10" "--vlan 300 --vlan 30"; do
			tx_sendraw_from $side 4 --count 2 --l3-size 120 --pppoe 7 $tags
			tx_sendraw_from $side 6 --count 2 --l3-size 160 --pppoe 7 $tags
		done
		tx_sendraw_from $side 4 --pppoe 7 --ppp-protocol 0xc021
		tx_sendraw_from $side 4 --pppoe 7 --ppp-protocol 0x8021 --vlan 10
		tx_sendraw_from $side 4 --pppoe 0 --ethertype 0x8863
	done
	read_a
	assert_both_ways ipv4 6 $((6 * 120))
	assert_both_ways ipv6 6 $((6 * 160))
	assert_not_counted "ignored 6 truncated 0 malformed 0 length 0"
}

@test "PPPoE session frames count their IPv4 and IPv6 packets, other PPP and discovery frames as ignored, on every hook" {
	write_host_ranges
	tx_on_every_ingress_hook "$CONFIG" pppoe_counted_both_ways
}

# 2 frames each way of: IPv4 and IPv6 behind three VLAN tags, IPv4 behind
# four, a frame cut inside its third tag (a third tag is not looked at),
# and ethertype 0 (an 802.3 length field) with and without a tag.
deep_tags_and_ethertype_0_ignored() {
	local side
	for side in a b; do
		tx_sendraw_from $side 4 --count 2 --vlan 300 --vlan 30 --vlan 3
		tx_sendraw_from $side 6 --count 2 --vlan 300 --vlan 30 --vlan 3
		tx_sendraw_from $side 4 --count 2 --vlan 300 --vlan 30 --vlan 3 --vlan 4
		tx_sendraw_from $side 4 --count 2 --vlan 300 --vlan 30 --vlan 3 --truncate $((14 + 8 + 2))
		tx_sendraw_from $side 4 --count 2 --ethertype 0
		tx_sendraw_from $side 6 --count 2 --ethertype 0 --vlan 10
	done
	read_a
	assert_series_count ipv4 0
	assert_series_count ipv6 0
	assert_not_counted "ignored 24 truncated 0 malformed 0 length 0"
}

@test "frames with three or more VLAN tags, and ethertype 0, count as ignored, on every hook" {
	write_host_ranges
	tx_on_every_ingress_hook "$CONFIG" deep_tags_and_ethertype_0_ignored
}

# 2 frames each way cut: inside the inner of two tags, inside an MPLS label
# stack, right after its bottom label, inside the IPv4 header under a tag
# and a label, inside a PPPoE header, inside the IPv6 header under PPPoE.
cut_frames_truncated() {
	local side
	for side in a b; do
		tx_sendraw_from $side 4 --count 2 --vlan 300 --vlan 30 --truncate $((14 + 4 + 2))
		tx_sendraw_from $side 4 --count 2 --mpls 16 --mpls 17 --truncate $((14 + 6))
		tx_sendraw_from $side 6 --count 2 --mpls 16 --truncate $((14 + 4))
		tx_sendraw_from $side 4 --count 2 --mpls 16 --vlan 10 --truncate $((14 + 4 + 4 + 19))
		tx_sendraw_from $side 6 --count 2 --pppoe 7 --truncate $((14 + 7))
		tx_sendraw_from $side 6 --count 2 --pppoe 7 --vlan 10 --truncate $((14 + 4 + 8 + 39))
	done
	read_a
	assert_series_count ipv4 0
	assert_series_count ipv6 0
	assert_not_counted "ignored 0 truncated 24 malformed 0 length 0"
}

@test "frames cut inside a VLAN tag, an MPLS label stack or a PPPoE header count as truncated, on every hook" {
	write_host_ranges
	tx_on_every_ingress_hook "$CONFIG" cut_frames_truncated
}

# 2 frames each way cut inside their only tag (16 bytes) and right after it
# (18). XDP and TC egress count each as truncated. TC ingress never gets
# them: the kernel drops a frame with less than a tag and 2 bytes after the
# Ethernet header while it moves the tag into skb metadata, before TC.
outer_tag_cut() {
	local side truncated=8
	for side in a b; do
		tx_sendraw_from $side 4 --count 2 --vlan 100 --truncate 16
		tx_sendraw_from $side 6 --count 2 --vlan 100 --truncate 18
	done
	[[ $TX_HOOK == "--ingress tc" ]] && truncated=4
	read_a
	assert_series_count ipv4 0
	assert_series_count ipv6 0
	assert_not_counted "ignored 0 truncated $truncated malformed 0 length 0"
}

@test "a frame cut inside its outer VLAN tag counts as truncated where it arrives: on XDP, not at all on TC ingress" {
	write_host_ranges
	tx_on_every_ingress_hook "$CONFIG" outer_tag_cut
}

@test "the data plane of kernels before 5.18 counts MPLS, PPPoE, deep tags and bad IP lengths the same, native and generic" {
	export TEXPORTER_FORCE_FALLBACKS=xdp-single,table-split
	write_host_ranges
	local mode side
	for mode in native generic; do
		load_a --xdp-mode "$mode"
		assert_output --partial "; xdp single-buffer, range table split in 1 element of 4 MiB"
		for side in a b; do
			tx_sendraw_from $side 4 --count 2 --l3-size 120 $(mpls_stack 8) --vlan 300 --vlan 30
			tx_sendraw_from $side 6 --count 2 --l3-size 160 --mpls 16
			tx_sendraw_from $side 4 --count 2 --l3-size 120 --pppoe 7 --vlan 10
			tx_sendraw_from $side 6 --count 2 --l3-size 160 --pppoe 7
			# ignored: three tags, ethertype 0
			tx_sendraw_from $side 4 --count 2 --vlan 300 --vlan 30 --vlan 3
			tx_sendraw_from $side 4 --count 2 --ethertype 0
			# malformed: IPv4 total length 19 and 0 in a ping's frame,
			# IPv6 payload length 0 without a Jumbo Payload option
			tx_sendraw_from $side 4 --count 2 --proto icmp --l3-size 84 --ip-length 19
			tx_sendraw_from $side 4 --count 2 --proto icmp --l3-size 84 --ip-length 0
			tx_sendraw_from $side 6 --count 2 --l3-size 100 --ip-length 0
			# a Jumbo Payload option of 70,000 in 200 bytes: counted
			# with the bytes present, and a length error
			tx_sendraw_from $side 6 --count 2 --l3-size 200 --jumbo 70000
		done
		read_a
		assert_both_ways ipv4 4 $((4 * 120))
		assert_both_ways ipv6 6 $((4 * 160 + 2 * 200))
		assert_not_counted "ignored 8 truncated 0 malformed 12 length 4"
		run tx_load "$NS_A" -i "$IF_A" --detach
		assert_success
	done
}

# --- output -----------------------------------------------------------------

@test "range names with quotes, backslashes, spaces and UTF-8 are escaped in the output" {
	tx_write_config "$CONFIG" "say \"hi\" \\ there=$IP4_A,$IP6_A" "Zürich — ☃ peer=$IP4_B,$IP6_B"
	load_a
	tx_ping_b ipv4 2 100
	tx_ping_b ipv6 1 100
	read_a
	assert_series ipv4 'say \"hi\" \\ there' 'Zürich — ☃ peer' 2 256
	assert_series ipv4 'Zürich — ☃ peer' 'say \"hi\" \\ there' 2 256
	assert_series ipv6 'say \"hi\" \\ there' 'Zürich — ☃ peer' 1 148
	assert_series ipv6 'Zürich — ☃ peer' 'say \"hi\" \\ there' 1 148
	assert_series_count ipv4 2
	assert_series_count ipv6 2
}
