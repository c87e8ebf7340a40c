#!/usr/bin/env bats
# Exact on real-world traffic: offloaded TCP (TSO/GSO, GRO, BIG TCP), jumbo
# frames, VLAN and QinQ, IPv4 options and IPv6 extension headers, fragments,
# malformed frames, interface churn, a small RLIMIT_MEMLOCK and the full
# public range list.
#
# Every expected figure comes from a ground truth texporter did not compute:
# the kernel's interface or protocol counters, the sender's own accounting
# (ping, sendraw), arithmetic from the packet formats, or a longest-prefix
# match done in Python (tests/tools/lpm.py).

load helpers

setup() {
	tx_setup_bpffs
	tx_setup_pair
	CONFIG=$BATS_TEST_TMPDIR/ranges.json
	PUBLIC_RANGES=$TX_REPO/../shared/data/public-ranges.json
}

teardown() {
	teardown_router_hop
	tx_teardown
}

# --- a router hop: A -- B -- C ---------------------------------------------

# A third namespace NS_C behind NS_B: txa0 (A) -- txb0 (B) txb1 -- txc0 (C).
# B routes IPv4 between the two links. TSO and GSO are off on txb1 and TSO
# on txc0, so whatever leaves them the kernel has cut into the very
# segments a NIC would put on the wire, and txc0's counters count each one.
IF_B1=txb1
IF_C=txc0
MAC_B1=02:91:00:00:01:0b
MAC_C=02:91:00:00:01:0c
IP4_B1=10.92.0.1
IP4_C=10.92.0.2
IP6_B1=fd00:92::1
IP6_C=fd00:92::2

setup_router_hop() {
	NS_C=${NS_A%a}c
	ip netns add "$NS_C"
	ip link add "$IF_B1" netns "$NS_B" type veth peer name "$IF_C" netns "$NS_C"
	tx_configure_side "$NS_B" "$IF_B1" "$MAC_B1" "$IP4_B1" "$IP6_B1" "$MAC_C" "$IP4_C" "$IP6_C"
	tx_configure_side "$NS_C" "$IF_C" "$MAC_C" "$IP4_C" "$IP6_C" "$MAC_B1" "$IP4_B1" "$IP6_B1"
	# IPv4 only: IPv6 forwarding would join all-routers and send MLD reports.
	tx_in "$NS_B" sysctl -qw net.ipv4.ip_forward=1
	tx_in "$NS_B" ethtool -K "$IF_B1" tso off gso off
	# TSO off on txc0 too; GSO stays on, so C's bulk data leaves in bursts of
	# segments, as from a NIC (bursts GRO can merge behind B).
	tx_in "$NS_C" ethtool -K "$IF_C" tso off
	tx_in "$NS_B" ip link set dev "$IF_B1" up
	tx_in "$NS_C" ip link set dev "$IF_C" up
	tx_in "$NS_A" ip route add 10.92.0.0/24 via "$IP4_B"
	tx_in "$NS_C" ip route add 10.91.0.0/24 via "$IP4_B1"
	tx_wait_until 5 tx_link_has_carrier "$NS_C" "$IF_C"
}

teardown_router_hop() {
	[[ -n ${NS_C:-} && -e /run/netns/$NS_C ]] || return 0
	local pids
	mapfile -t pids < <(ip netns pids "$NS_C" 2>/dev/null)
	((${#pids[@]} == 0)) || kill -9 "${pids[@]}" 2>/dev/null
	ip netns delete "$NS_C" 2>/dev/null
	return 0
}

# --- ground truths ----------------------------------------------------------

# "PACKETS L3_BYTES" of the frames an interface received (rx) or sent (tx),
# from the kernel's counters of that interface: every frame counted there
# carries a 14-byte untagged Ethernet header.
#   link_l3 NS IFACE rx|tx
# Not for txa0's rx or txb0's tx while XDP is native on txa0: veth then
# counts those bytes after the Ethernet header was pulled.
link_l3() {
	local packets bytes
	packets=$(tx_link_stat "$1" "$2" "${3}_packets") || return
	bytes=$(tx_link_stat "$1" "$2" "${3}_bytes") || return
	echo "$packets $((bytes - 14 * packets))"
}

# A protocol counter (nstat name) of namespace NS, absolute: a namespace's
# counters start at 0. -s: leave nstat's shared history file alone.
nstat_value() {
	tx_in "$1" nstat -asz "$2" |
		awk -v name="$2" '$1 == name { print $2; found = 1 } END { if (!found) print 0 }'
}

# --- texporter --------------------------------------------------------------

load_a() {
	run tx_load "$NS_A" -i "$IF_A" -f "$CONFIG" "$@"
	assert_success
}

scrape() {
	run tx_read "$NS_A"
	assert_success
}

# assert_counted FAMILY SRC DST PACKETS BYTES [IFACE]: the packet and byte
# series of the last scrape are exactly these.
assert_counted() {
	local labels="iface=\"${6:-$IF_A}\",family=\"$1\",src=\"$2\",dst=\"$3\""
	local packets bytes
	packets=$(tx_metric texporter_captured_packets_total "$labels")
	bytes=$(tx_metric texporter_captured_bytes_total "$labels")
	echo "# {$labels}: counted $packets packets $bytes bytes, expected $4 packets $5 bytes" >&2
	assert_equal "$packets packets $bytes bytes" "$4 packets $5 bytes"
}

# Sum of every series of METRIC in the last scrape.
metric_sum() {
	awk -v prefix="$1{" 'index($0, prefix) == 1 { sum += $NF } END { print sum + 0 }' <<<"$output"
}

errors_of() {
	tx_metric texporter_dataplane_errors_total "iface=\"$IF_A\",reason=\"$1\""
}

# Everything the last scrape counted as traffic, and its error counters.
traffic_and_errors() {
	echo "traffic $(metric_sum texporter_captured_packets_total) packets" \
		"$(metric_sum texporter_captured_bytes_total) bytes;" \
		"errors: truncated $(errors_of truncated) malformed $(errors_of malformed)" \
		"length $(errors_of length)"
}

# assert_fewer A B WHAT: A < B, else fail naming WHAT.
assert_fewer() {
	(($1 < $2)) || fail "expected $3: $1 < $2"
}

assert_attached() {
	run tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/bpfattached.py" "$1"
	assert_success
	assert_output "$2"
}

# --- traffic ----------------------------------------------------------------

port_listening() {
	[[ -n $(tx_in "$1" ss -Hltn "sport = :$2") ]]
}

# No TCP connection left but TIME-WAIT ones: every FIN and ACK has crossed.
tcp_settled() {
	[[ -z $(tx_in "$1" ss -Htan exclude listening exclude time-wait) ]]
}

# tcp_bulk SERVER_NS SERVER_ADDRESS CLIENT_NS: iperf3 sends 20 MiB from the
# client to the server (its control connection and one data connection) and
# returns once both ends have closed both connections.
tcp_bulk() {
	local server_ns=$1 address=$2 client_ns=$3 server
	tx_bg "$server_ns" timeout 25 iperf3 --server --one-off --bind "$address"
	server=$TX_BG_PID
	tx_wait_until 5 port_listening "$server_ns" 5201
	run tx_in "$client_ns" timeout 20 iperf3 --client "$address" --bytes 20M
	assert_success
	wait "$server" || fail "iperf3 server failed: $(cat "$TX_BG_LOG")"
	tx_wait_until 5 tcp_settled "$client_ns"
	tx_wait_until 5 tcp_settled "$server_ns"
	show_drops
}

# For the record when a figure is off (Bats shows it on failure only): any
# drop between TC on txa0 and the interface the ground truth is read from
# would make them differ.
show_drops() {
	local -a where=("$NS_A" "$IF_A" "$NS_B" "$IF_B")
	[[ -n ${NS_C:-} ]] && where+=("$NS_B" "$IF_B1" "$NS_C" "$IF_C")
	local i
	for ((i = 0; i < ${#where[@]}; i += 2)); do
		echo "# ${where[i + 1]}: rx_dropped $(tx_link_stat "${where[i]}" "${where[i + 1]}" rx_dropped)" \
			"tx_dropped $(tx_link_stat "${where[i]}" "${where[i + 1]}" tx_dropped)" >&2
	done
}

ping_ok() {
	local count=$1
	shift
	run tx_in "$NS_A" ping -c "$count" -i 0.2 -W 2 "$@"
	assert_success
	assert_output --partial "$count packets transmitted, $count received"
}

sendraw_from_a() {
	run tx_sendraw "$NS_A" --iface "$IF_A" "$@"
	assert_success
}

# Into txb0, so that XDP on txa0 sees them; nobody's MAC: A drops them.
sendraw_from_b() {
	run tx_sendraw "$NS_B" --iface "$IF_B" "$@"
	assert_success
}

# --- offloaded TCP ----------------------------------------------------------

@test "bulk TCP sent with TSO counts every wire segment and its bytes, both ways" {
	setup_router_hop
	tx_write_config "$CONFIG" a="$IP4_A" c="$IP4_C"
	load_a
	tcp_bulk "$NS_C" "$IP4_C" "$NS_A"
	# Ground truth, A->C: TC on txa0 sees TSO super-packets, the veth carries
	# them whole, and B forwards them out of txb1 where the kernel cuts them
	# into wire segments (offloads off there); txc0 receives each as a frame:
	# packets = rx_packets, L3 bytes = rx_bytes - 14 x rx_packets.
	# C->A (ACKs and iperf3's control messages): C sends real segments
	# (TSO off on txc0), B forwards them unchanged, XDP on txa0 sees
	# each: txc0's tx counters, figured the same way.
	local -a data ack
	read -ra data < <(link_l3 "$NS_C" "$IF_C" rx)
	read -ra ack < <(link_l3 "$NS_C" "$IF_C" tx)
	# The run did exercise super-packets: fewer frames crossed txa0->txb0
	# than segments reached C.
	assert_fewer "$(tx_link_stat "$NS_B" "$IF_B" rx_packets)" "${data[0]}" \
		"fewer frames on the A-B link than segments at C"
	scrape
	assert_counted ipv4 a c "${data[@]}"
	assert_counted ipv4 c a "${ack[@]}"
	assert_equal "$(metric_sum texporter_captured_packets_total)" $((${data[0]} + ${ack[0]}))
}

@test "bulk TCP with TSO and GSO off on the interface gives the same exact totals" {
	setup_router_hop
	tx_in "$NS_A" ethtool -K "$IF_A" tso off gso off
	tx_write_config "$CONFIG" a="$IP4_A" c="$IP4_C"
	load_a
	tcp_bulk "$NS_C" "$IP4_C" "$NS_A"
	# Ground truth as with TSO: txc0's rx counters (A->C) and tx counters
	# (C->A), 14 bytes of Ethernet header off every frame.
	local -a data ack
	read -ra data < <(link_l3 "$NS_C" "$IF_C" rx)
	read -ra ack < <(link_l3 "$NS_C" "$IF_C" tx)
	# A cut the segments itself (after TC): B received as many frames as C...
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" rx_packets)" "${data[0]}"
	# ...yet TC saw super-packets: TCP handed IP fewer packets than left A.
	assert_fewer "$(nstat_value "$NS_A" IpOutRequests)" "${data[0]}" \
		"fewer IP packets from TCP than wire segments"
	scrape
	assert_counted ipv4 a c "${data[@]}"
	assert_counted ipv4 c a "${ack[@]}"
	assert_equal "$(metric_sum texporter_captured_packets_total)" $((${data[0]} + ${ack[0]}))
}

@test "bulk TCP received through GRO counts every wire segment on TC ingress" {
	setup_router_hop
	# GRO on a veth: its peer's packets go through NAPI and are merged before
	# TC ingress (XDP would see them before GRO). veth only hands packets to
	# GRO when the sending peer has TSO off.
	tx_in "$NS_A" ethtool -K "$IF_A" gro on
	tx_in "$NS_B" ethtool -K "$IF_B" tso off
	tx_write_config "$CONFIG" a="$IP4_A" c="$IP4_C"
	load_a --ingress tc
	assert_output --partial "ingress tc"
	tcp_bulk "$NS_A" "$IP4_A" "$NS_C"
	# Ground truth, C->A: the segments C sent (TSO off on txc0), B
	# forwards them unchanged: txc0's tx counters, 14 bytes off each frame.
	# A->C: txc0's rx counters.
	local -a data ack
	read -ra data < <(link_l3 "$NS_C" "$IF_C" tx)
	read -ra ack < <(link_l3 "$NS_C" "$IF_C" rx)
	# GRO did merge: A's IP layer received fewer packets than C sent.
	assert_fewer "$(nstat_value "$NS_A" IpInReceives)" "${data[0]}" \
		"fewer IP packets received by A than segments sent by C"
	scrape
	assert_counted ipv4 c a "${data[@]}"
	assert_counted ipv4 a c "${ack[@]}"
}

# BIG TCP: TSO and GSO off on txa0, so A cuts its super-packets itself
# after TC, and txb0's rx counters count the wire segments. Only the data
# direction is checked: the ACKs are as in the TSO tests, and txb0's tx
# counters are not a ground truth under native XDP (see link_l3).
# big_tcp A B OCTETS REQUESTS: bulk TCP from A to B until NS_A's IP output
# (nstat OCTETS / REQUESTS) averaged above 64 KiB per packet, so that some
# packet was above 64 KiB: only then was there BIG TCP to count. How big TCP
# builds its packets depends on the machine's load, hence up to three
# transfers; each one is in the ground truth as much as in the counts.
# BIG_TCP_SHORT says why when no transfer got there, and is empty otherwise.
# (Not a return status: a caller testing it would turn off errexit inside.)
big_tcp() {
	local a=$1 b=$2 octets_name=$3 requests_name=$4 attempt octets requests
	BIG_TCP_SHORT=
	tx_in "$NS_A" ethtool -K "$IF_A" tso off gso off
	tx_write_config "$CONFIG" a="$a" b="$b"
	load_a
	for attempt in 1 2 3; do
		tcp_bulk "$NS_B" "$b" "$NS_A"
		octets=$(nstat_value "$NS_A" "$octets_name")
		requests=$(nstat_value "$NS_A" "$requests_name")
		((octets / requests > 65535)) && return 0
	done
	BIG_TCP_SHORT="TCP built no packet above 64 KiB in 3 transfers ($octets bytes in $requests IP packets): counted exactly, but BIG TCP was not exercised this run"
}

@test "BIG TCP over IPv4 (total length 0) counts every wire segment, exactly" {
	# iproute2 6.1 cannot set gso_ipv4_max_size: linksize.py does, over
	# rtnetlink (IFLA_GSO_IPV4_MAX_SIZE, Linux >= 6.3).
	run tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/linksize.py" "$IF_A" --gso-ipv4-max-size 185000
	[[ $status -eq 0 ]] || skip "cannot raise gso_ipv4_max_size of a veth here: $output"
	# Some IP packet above 64 KiB (its total length 0): IP output bytes per
	# IP output packet above 65535 cannot be otherwise.
	big_tcp "$IP4_A" "$IP4_B" IpExtOutOctets IpOutRequests
	# Ground truth: txb0's rx counters, 14 bytes of Ethernet header off
	# every frame. Nothing of A reaches B but this traffic.
	local -a data
	read -ra data < <(link_l3 "$NS_B" "$IF_B" rx)
	scrape
	assert_counted ipv4 a b "${data[@]}"
	[[ -z $BIG_TCP_SHORT ]] || skip "$BIG_TCP_SHORT"
}

@test "BIG TCP over IPv6 (jumbograms) counts every wire segment, exactly" {
	run tx_in "$NS_A" ip link set dev "$IF_A" gso_max_size 185000
	[[ $status -eq 0 ]] || skip "iproute2 cannot raise gso_max_size of a veth here: $output"
	# Some IPv6 packet above 64 KiB (a jumbogram, payload length 0). Linux
	# still puts a hop-by-hop jumbo option into such a super-packet; GSO (or
	# the NIC) strips it, so no wire segment carries it.
	big_tcp "$IP6_A" "$IP6_B" Ip6OutOctets Ip6OutRequests
	# Ground truth: txb0's rx counters, 14 bytes of Ethernet header off
	# every frame.
	local -a data
	read -ra data < <(link_l3 "$NS_B" "$IF_B" rx)
	scrape
	assert_counted ipv6 a b "${data[@]}"
	[[ -z $BIG_TCP_SHORT ]] || skip "$BIG_TCP_SHORT"
}

# --- jumbo frames -----------------------------------------------------------

set_mtu() {
	tx_in "$NS_A" ip link set dev "$IF_A" mtu "$1"
	tx_in "$NS_B" ip link set dev "$IF_B" mtu "$1"
}

# Three pings of 8000 data bytes each way and family, not fragmented (-M do):
# 8000 + 8 ICMP + 20 IPv4 = 8028 L3 bytes; 8000 + 8 + 40 IPv6 = 8048.
jumbo_pings_counted_exactly() {
	ping_ok 3 -s 8000 -M 'do' "$IP4_B"
	ping_ok 3 -s 8000 -M 'do' "$IP6_B"
	# The kernel agrees: txa0 sent 6 frames, 14 bytes of Ethernet each.
	assert_equal "$(link_l3 "$NS_A" "$IF_A" tx)" "6 $((3 * 8028 + 3 * 8048))"
	scrape
	assert_counted ipv4 a b 3 $((3 * 8028))
	assert_counted ipv4 b a 3 $((3 * 8028))
	assert_counted ipv6 a b 3 $((3 * 8048))
	assert_counted ipv6 b a 3 $((3 * 8048))
	assert_equal "$(metric_sum texporter_captured_packets_total)" 12
}

@test "jumbo frames (MTU 9000 set before loading) are counted exactly, XDP multi-buffer" {
	set_mtu 9000
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	load_a
	# Native XDP on a veth: a 9014-byte frame does not fit one page, so XDP
	# gets it as a multi-buffer frame. Kernels before 5.18 have no such
	# frames: there the loader counts ingress with tc.
	if [[ $(tx_default_dataplane) == "xdp multi-buffer"* ]]; then
		assert_output --partial "ingress xdp (native)"
	else
		assert_line --regexp "^$IF_A: attached: ingress tc \((tcx|legacy clsact)\), "
	fi
	jumbo_pings_counted_exactly
}

@test "jumbo frames on a kernel without multi-buffer XDP are counted exactly by tc ingress, and the loader says why" {
	set_mtu 9000
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	TEXPORTER_FORCE_FALLBACKS=xdp-single load_a
	assert_line --partial "MTU 9000 is above the 3506 bytes this kernel's XDP sees in one buffer"
	assert_line --regexp "^$IF_A: attached: ingress tc \((tcx|legacy clsact)\), egress tc .*; range table in 1 element\$"
	jumbo_pings_counted_exactly
}

@test "jumbo frames (MTU 9000 set after loading) are counted exactly, XDP multi-buffer" {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	load_a
	assert_output --partial "ingress xdp (native)"
	if [[ $(tx_default_dataplane) != "xdp multi-buffer"* ]]; then
		# Single-buffer XDP is attached natively: the kernel itself
		# refuses an MTU whose frames it could not see whole.
		run set_mtu 9000
		assert_failure
		skip "Linux $(uname -r) refuses MTU 9000 under single-buffer XDP, as it should"
	fi
	set_mtu 9000
	assert_attached "$IF_A" "xdp 1 tcx_ingress 0 tcx_egress 1"
	jumbo_pings_counted_exactly
}

# --- VLAN and QinQ ----------------------------------------------------------

# Real VLAN devices need 802.1Q in the kernel (CONFIG_VLAN_8021Q).
skip_without_vlan_devices() {
	if ! tx_in "$NS_A" ip link add link "$IF_A" name txa0v1 type vlan id 1 2>/dev/null; then
		skip "this kernel cannot create VLAN devices (no CONFIG_VLAN_8021Q); tagged frames are covered by the sendraw tests"
	fi
	tx_in "$NS_A" ip link delete dev txa0v1
}

# On each side: an 802.1Q device (id 100) in 10.93.0.0/24 + fd00:93::/64,
# and a QinQ stack, 802.1ad id 300 outside, 802.1Q id 30 inside, in
# 10.94.0.0/24 + fd00:94::/64; quiet like the pair itself. No dots in the
# names: sysctl would read them as separators.
add_vlan_devices() {
	local ns ifname mac peer_mac me peer dev side
	for side in a b; do
		if [[ $side == a ]]; then
			ns=$NS_A ifname=$IF_A mac=$MAC_A peer_mac=$MAC_B me=1 peer=2
		else
			ns=$NS_B ifname=$IF_B mac=$MAC_B peer_mac=$MAC_A me=2 peer=1
		fi
		tx_in "$ns" ip link add link "$ifname" name "${ifname}v100" type vlan id 100
		tx_in "$ns" ip link add link "$ifname" name "${ifname}s300" type vlan proto 802.1ad id 300
		tx_in "$ns" ip link add link "${ifname}s300" name "${ifname}q30" type vlan proto 802.1Q id 30
		tx_in "$ns" ip link set dev "${ifname}s300" arp off
		tx_quiet_ipv6 "$ns" "${ifname}s300"
		tx_configure_side "$ns" "${ifname}v100" "$mac" "10.93.0.$me" "fd00:93::$me" \
			"$peer_mac" "10.93.0.$peer" "fd00:93::$peer"
		tx_configure_side "$ns" "${ifname}q30" "$mac" "10.94.0.$me" "fd00:94::$me" \
			"$peer_mac" "10.94.0.$peer" "fd00:94::$peer"
		for dev in "${ifname}v100" "${ifname}s300" "${ifname}q30"; do
			tx_in "$ns" ip link set dev "$dev" up
		done
	done
}

# Three pings each over 802.1Q and QinQ, IPv4 and IPv6, of 100 data bytes:
# 100 + 8 ICMP + 20 IPv4 = 128 L3 bytes, + 40 IPv6 = 148, each way. The
# tags are not L3 bytes; the inner addresses classify.
vlan_pings_counted_exactly() {
	tx_write_config "$CONFIG" vlan-a=10.93.0.1,fd00:93::1 vlan-b=10.93.0.2,fd00:93::2 \
		qinq-a=10.94.0.1,fd00:94::1 qinq-b=10.94.0.2,fd00:94::2
	load_a "$@"
	ping_ok 3 -s 100 10.93.0.2
	ping_ok 3 -s 100 fd00:93::2
	ping_ok 3 -s 100 10.94.0.2
	ping_ok 3 -s 100 fd00:94::2
	scrape
	local a b pair
	for pair in vlan-a:vlan-b vlan-b:vlan-a qinq-a:qinq-b qinq-b:qinq-a; do
		a=${pair%:*} b=${pair#*:}
		assert_counted ipv4 "$a" "$b" 3 $((3 * 128))
		assert_counted ipv6 "$a" "$b" 3 $((3 * 148))
	done
	assert_equal "$(metric_sum texporter_captured_packets_total)" 24
}

@test "pings over VLAN and QinQ devices are counted exactly both ways by their inner addresses" {
	skip_without_vlan_devices
	# Default veth offloads: the outer tag travels in skb metadata, not in
	# the frame, on TC egress and into XDP; QinQ's inner tag is in the frame.
	add_vlan_devices
	vlan_pings_counted_exactly
}

@test "pings over VLAN and QinQ devices with the tags inside the frames are counted exactly" {
	skip_without_vlan_devices
	# VLAN insertion offload off: the kernel writes the tags into the frame
	# before it leaves txb0, so XDP on txa0 parses both QinQ tags itself.
	tx_in "$NS_A" ethtool -K "$IF_A" tx-vlan-hw-insert off tx-vlan-stag-hw-insert off
	tx_in "$NS_B" ethtool -K "$IF_B" tx-vlan-hw-insert off tx-vlan-stag-hw-insert off
	add_vlan_devices
	vlan_pings_counted_exactly
}

@test "pings over VLAN and QinQ devices are counted exactly with TC ingress" {
	skip_without_vlan_devices
	# TC ingress gets the outer tag in skb metadata, QinQ's inner one in the
	# frame.
	add_vlan_devices
	vlan_pings_counted_exactly --ingress tc
	assert_attached "$IF_A" "xdp 0 tcx_ingress 1 tcx_egress 1"
}

# Tagged frames built by sendraw, from each side: TC egress and the ingress
# hook get both tags inside the frame (on TC ingress the kernel has moved
# the outer one into skb metadata first).
tagged_frames_counted_exactly() {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	load_a "$@"
	local from send src4 dst4 src6 dst6
	for from in a b; do
		send=sendraw_from_$from src4=$IP4_A dst4=$IP4_B src6=$IP6_A dst6=$IP6_B
		if [[ $from == b ]]; then
			src4=$IP4_B dst4=$IP4_A src6=$IP6_B dst6=$IP6_A
		fi
		# 802.1Q id 100: 3 x 128 bytes IPv4, 3 x 148 IPv6. QinQ (802.1ad
		# 300 outside, 802.1Q 30 inside): 2 x 200 IPv4, 2 x 220 IPv6.
		$send --count 3 --src "$src4" --dst "$dst4" --vlan 100 --l3-size 128
		$send --count 3 --src "$src6" --dst "$dst6" --vlan 100 --l3-size 148
		$send --count 2 --src "$src4" --dst "$dst4" --vlan 300 --vlan 30 --l3-size 200
		$send --count 2 --src "$src6" --dst "$dst6" --vlan 300 --vlan 30 --l3-size 220
	done
	# Per direction: IPv4 5 packets, 3 x 128 + 2 x 200 = 784 bytes; IPv6 5,
	# 3 x 148 + 2 x 220 = 884. The tags are not L3 bytes. The kernel agrees
	# on A's 10 frames: 14 bytes of Ethernet each, plus 6 x 4 bytes of
	# 802.1Q tag and 4 x 8 of QinQ tags.
	assert_equal "$(link_l3 "$NS_A" "$IF_A" tx)" "10 $((784 + 884 + 6 * 4 + 4 * 8))"
	scrape
	assert_counted ipv4 a b 5 784
	assert_counted ipv4 b a 5 784
	assert_counted ipv6 a b 5 884
	assert_counted ipv6 b a 5 884
	assert_equal "$(metric_sum texporter_captured_packets_total)" 20
}

@test "802.1Q and QinQ tagged frames are counted exactly both ways by their inner addresses" {
	tagged_frames_counted_exactly
	assert_attached "$IF_A" "xdp 1 tcx_ingress 0 tcx_egress 1"
}

@test "802.1Q and QinQ tagged frames are counted exactly with TC ingress" {
	tagged_frames_counted_exactly --ingress tc
	assert_attached "$IF_A" "xdp 0 tcx_ingress 1 tcx_egress 1"
}

# --- IP options, extension headers, fragments ---------------------------------

@test "IPv4 with options and IPv6 with extension headers are counted by their length" {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	load_a
	local from
	for from in a b; do
		local send=sendraw_from_$from src4=$IP4_A dst4=$IP4_B src6=$IP6_A dst6=$IP6_B
		if [[ $from == b ]]; then
			src4=$IP4_B dst4=$IP4_A src6=$IP6_B dst6=$IP6_A
		fi
		# IPv4: 3 x 200 bytes with 40 option bytes, 2 x 120 with 8 option
		# bytes under an 802.1Q tag: 5 packets, 840 bytes.
		$send --count 3 --src "$src4" --dst "$dst4" --ipv4-options 40 --l3-size 200
		$send --count 2 --src "$src4" --dst "$dst4" --ipv4-options 8 --l3-size 120 --vlan 7
		# IPv6: 3 x 240 bytes with hop-by-hop, routing and destination
		# options headers, 2 x 180 with hop-by-hop under QinQ tags: 5, 1080.
		$send --count 3 --src "$src6" --dst "$dst6" --ipv6-ext hop --ipv6-ext routing \
			--ipv6-ext dst --l3-size 240
		$send --count 2 --src "$src6" --dst "$dst6" --ipv6-ext hop --l3-size 180 \
			--vlan 300 --vlan 30
	done
	# The kernel agrees on A's frames: 10 sent, 14 bytes of Ethernet each,
	# 4 more per tag: 2 x 4 (802.1Q) + 2 x 8 (QinQ).
	assert_equal "$(link_l3 "$NS_A" "$IF_A" tx)" "10 $((840 + 1080 + 2 * 4 + 2 * 8))"
	scrape
	assert_counted ipv4 a b 5 840
	assert_counted ipv4 b a 5 840
	assert_counted ipv6 a b 5 1080
	assert_counted ipv6 b a 5 1080
	assert_equal "$(metric_sum texporter_captured_packets_total)" 20
	assert_equal "$(errors_of truncated) $(errors_of malformed) $(errors_of length)" "0 0 0"
}

@test "fragments count once each, classified by their own addresses" {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B" doc=192.0.2.0/24,2001:db8::/32
	load_a
	# One IPv4 datagram b->a in 3 fragments of 100 bytes; one doc->a in 4 of
	# 60 (sendraw: each fragment exactly --l3-size). XDP sees them.
	sendraw_from_b --fragment --count 3 --src "$IP4_B" --dst "$IP4_A" --l3-size 100
	sendraw_from_b --fragment --count 4 --src 192.0.2.7 --dst "$IP4_A" --l3-size 60
	# IPv6: b->a in 2 fragments of 104 bytes, doc->a in 3 of 120.
	sendraw_from_b --fragment --count 2 --src "$IP6_B" --dst "$IP6_A" --l3-size 104
	sendraw_from_b --fragment --count 3 --src 2001:db8::7 --dst "$IP6_A" --l3-size 120
	# TC egress: a->doc in 3 IPv4 fragments of 100, a->b in 2 IPv6 of 104.
	sendraw_from_a --fragment --count 3 --src "$IP4_A" --dst 192.0.2.9 --l3-size 100
	sendraw_from_a --fragment --count 2 --src "$IP6_A" --dst "$IP6_B" --l3-size 104
	scrape
	assert_counted ipv4 b a 3 300
	assert_counted ipv4 doc a 4 240
	assert_counted ipv6 b a 2 208
	assert_counted ipv6 doc a 3 360
	assert_counted ipv4 a doc 3 300
	assert_counted ipv6 a b 2 208
	assert_equal "$(metric_sum texporter_captured_packets_total)" 17
}

@test "a ping too big for the MTU counts each of its fragments, both ways" {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	load_a
	ping_ok 2 -s 3000 "$IP4_B"
	ping_ok 2 -s 3000 "$IP6_B"
	# MTU 1500. IPv4: 3008 ICMP bytes in pieces of at most 1480 (a multiple of
	# 8): 1480 + 1480 + 48, i.e. fragments of 1500 + 1500 + 68 = 3068 bytes.
	# IPv6: at most 1500 - 40 - 8 fragment header = 1452, multiple of 8:
	# 1448 + 1448 + 112, i.e. 1496 + 1496 + 160 = 3152 bytes. The replies
	# are the same size and cut the same way. The kernel agrees on A's side:
	assert_equal "$(link_l3 "$NS_A" "$IF_A" tx)" "12 $((2 * 3068 + 2 * 3152))"
	scrape
	assert_counted ipv4 a b 6 $((2 * 3068))
	assert_counted ipv4 b a 6 $((2 * 3068))
	assert_counted ipv6 a b 6 $((2 * 3152))
	assert_counted ipv6 b a 6 $((2 * 3152))
}

# --- truncated and malformed frames -------------------------------------------

# After bad frames: still attached, and a ping is counted exactly (84 L3
# bytes: 56 data + 8 ICMP + 20 IPv4).
still_counting() {
	assert_attached "$IF_A" "xdp 1 tcx_ingress 0 tcx_egress 1"
	ping_ok 2 "$IP4_B"
	scrape
	assert_counted ipv4 a b 2 168
	assert_counted ipv4 b a 2 168
}

@test "truncated frames are not counted and add exactly one truncated error each" {
	# Ground truth: the frames sent, 2 of each kind from each side, none
	# holding a whole IP header.
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	load_a
	local from
	for from in a b; do
		# 5 kinds x 2 frames from each side (TC egress, XDP ingress):
		local send=sendraw_from_$from
		# the IPv4 header cut at 19 of its 20 bytes
		$send --count 2 --src "$IP4_A" --dst "$IP4_B" --l3-size 100 --truncate $((14 + 19))
		# the IPv6 header cut at 39 of its 40 bytes
		$send --count 2 --src "$IP6_A" --dst "$IP6_B" --l3-size 100 --truncate $((14 + 39))
		# an 802.1Q tag cut in half
		$send --count 2 --src "$IP4_A" --dst "$IP4_B" --vlan 100 --truncate $((14 + 2))
		# QinQ: the inner tag cut in half
		$send --count 2 --src "$IP4_A" --dst "$IP4_B" --vlan 300 --vlan 30 --truncate $((14 + 4 + 2))
		# nothing after the Ethernet header
		$send --count 2 --src "$IP4_A" --dst "$IP4_B" --truncate 14
	done
	scrape
	assert_equal "$(traffic_and_errors)" "traffic 0 packets 0 bytes; errors: truncated 20 malformed 0 length 0"
	still_counting
}

@test "malformed IP headers are not counted and add exactly one malformed error each" {
	# Ground truth: the frames sent, 2 of each kind from each side.
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	load_a
	local from
	for from in a b; do
		local send=sendraw_from_$from
		# 5 kinds x 2 frames from each side: IHL 4 and IHL 0 (below the
		# 5-word minimum), version 6 and 7 under the IPv4 ethertype, version
		# 4 under the IPv6 ethertype.
		$send --count 2 --src "$IP4_A" --dst "$IP4_B" --bad-ihl 4
		$send --count 2 --src "$IP4_A" --dst "$IP4_B" --bad-ihl 0
		$send --count 2 --src "$IP4_A" --dst "$IP4_B" --bad-version
		$send --count 2 --src "$IP4_A" --dst "$IP4_B" --bad-version 7
		$send --count 2 --src "$IP6_A" --dst "$IP6_B" --bad-version
	done
	scrape
	assert_equal "$(traffic_and_errors)" "traffic 0 packets 0 bytes; errors: truncated 0 malformed 20 length 0"
	still_counting
}

@test "an IP length beyond the frame counts the bytes present and one length error" {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	load_a
	local from
	for from in a b; do
		local send=sendraw_from_$from src4=$IP4_A dst4=$IP4_B src6=$IP6_A dst6=$IP6_B
		if [[ $from == b ]]; then
			src4=$IP4_B dst4=$IP4_A src6=$IP6_B dst6=$IP6_A
		fi
		# IPv4: 3 frames of 60 L3 bytes claiming 160, and 2 frames cut 26
		# bytes after the Ethernet header, their header claiming 100:
		# counted 3 x 60 + 2 x 26 = 232 bytes, 5 length errors.
		$send --count 3 --src "$src4" --dst "$dst4" --l3-size 60 --length-overclaim 100
		$send --count 2 --src "$src4" --dst "$dst4" --l3-size 100 --truncate $((14 + 26))
		# IPv6: 2 frames of 80 bytes whose payload length claims 1000 more:
		# 160 bytes, 2 length errors.
		$send --count 2 --src "$src6" --dst "$dst6" --l3-size 80 --length-overclaim 1000
		# Ethernet padding, the everyday opposite: the IP length 6 bytes short
		# of the frame counts the IP length, 2 x 54, and is no error.
		$send --count 2 --src "$src6" --dst "$dst6" --l3-size 60 --length-overclaim -6
	done
	scrape
	assert_counted ipv4 a b 5 232
	assert_counted ipv4 b a 5 232
	assert_counted ipv6 a b 4 $((160 + 2 * 54))
	assert_counted ipv6 b a 4 $((160 + 2 * 54))
	assert_equal "$(errors_of truncated) $(errors_of malformed) $(errors_of length)" "0 0 14"
}

# --- length fields the kernel refuses, on every hook ---------------------------
#
# As the kernel's ip_rcv and ipv6_rcv take them. Each case from both sides,
# so through TC egress and each ingress hook (tx_on_every_ingress_hook).

# 2 frames each way of: an ordinary ping's frame (98 bytes, IHL 5) whose
# total length says 19; 8 option bytes (IHL 7, a 28-byte header) and a
# total length of 24; total length 19 under an MPLS label and under PPPoE.
# And the boundary, a total length of just the header (20) in the ping's
# frame: counted as 20 bytes, Ethernet padding as it were.
ipv4_length_below_header() {
	local side
	for side in a b; do
		tx_sendraw_from $side 4 --count 2 --proto icmp --l3-size 84 --ip-length 19
		tx_sendraw_from $side 4 --count 2 --ipv4-options 8 --ip-length 24
		tx_sendraw_from $side 4 --count 2 --proto icmp --l3-size 84 --ip-length 19 --mpls 16
		tx_sendraw_from $side 4 --count 2 --proto icmp --l3-size 84 --ip-length 19 --pppoe 7
		tx_sendraw_from $side 4 --count 2 --proto icmp --l3-size 84 --ip-length 20
	done
	scrape
	assert_counted ipv4 a b 2 40
	assert_counted ipv4 b a 2 40
	assert_equal "$(traffic_and_errors)" "traffic 4 packets 80 bytes; errors: truncated 0 malformed 16 length 0"
}

@test "an IPv4 total length below the header's own is malformed and not counted, on every hook" {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	tx_on_every_ingress_hook "$CONFIG" ipv4_length_below_header
}

# 2 frames each way of: an ordinary ping's frame with IPv4 total length 0;
# IPv6 (UDP, 100 bytes) with payload length 0 and no hop-by-hop header, and
# with one that holds only padding; IPv4 total length 0 under PPPoE and
# IPv6 payload length 0 under two MPLS labels. None is a GSO packet, none
# a jumbogram.
zero_length_malformed() {
	local side
	for side in a b; do
		tx_sendraw_from $side 4 --count 2 --proto icmp --l3-size 84 --ip-length 0
		tx_sendraw_from $side 6 --count 2 --l3-size 100 --ip-length 0
		tx_sendraw_from $side 6 --count 2 --l3-size 100 --ipv6-ext hop --ip-length 0
		tx_sendraw_from $side 4 --count 2 --proto icmp --l3-size 84 --ip-length 0 --pppoe 7
		tx_sendraw_from $side 6 --count 2 --l3-size 100 --ip-length 0 --mpls 16 --mpls 17
	done
	scrape
	assert_equal "$(traffic_and_errors)" "traffic 0 packets 0 bytes; errors: truncated 0 malformed 20 length 0"
}

@test "an IP length field of 0 outside GSO packets and jumbograms is malformed and not counted, on every hook" {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	tx_on_every_ingress_hook "$CONFIG" zero_length_malformed
}

# 2 IPv6 frames each way of 200 bytes from the IPv6 header on, payload
# length 0, whose Jumbo Payload option claims 70,000 bytes: right after the
# hop-by-hop header's start, behind a Router Alert option, and under an
# MPLS label. A veth carries no real jumbogram (65,575 bytes and more), so
# each claims more than its frame: counted with the 200 bytes present and
# a length error. And 2 whose option says 65,535, which a jumbogram cannot
# be: malformed.
jumbo_option_checked() {
	local side
	for side in a b; do
		tx_sendraw_from $side 6 --count 2 --l3-size 200 --jumbo 70000
		tx_sendraw_from $side 6 --count 2 --l3-size 200 --jumbo 70000 --jumbo-after-router-alert
		tx_sendraw_from $side 6 --count 2 --l3-size 200 --jumbo 70000 --mpls 16
		tx_sendraw_from $side 6 --count 2 --l3-size 200 --jumbo 65535
	done
	scrape
	assert_counted ipv6 a b 6 $((6 * 200))
	assert_counted ipv6 b a 6 $((6 * 200))
	assert_equal "$(traffic_and_errors)" "traffic 12 packets 2400 bytes; errors: truncated 0 malformed 4 length 12"
}

@test "a Jumbo Payload option gives an IPv6 length of 0 its length, beyond the frame a length error, on every hook" {
	tx_write_config "$CONFIG" a="$IP4_A,$IP6_A" b="$IP4_B,$IP6_B"
	tx_on_every_ingress_hook "$CONFIG" jumbo_option_checked
}

# --- interface churn ----------------------------------------------------------

status_a() {
	run tx_load "$NS_A" --status -i "$1"
	assert_success
}

# Counted before the churn: 3 pings each way, 84 bytes each.
load_and_ping() {
	tx_write_config "$CONFIG" a="$IP4_A" b="$IP4_B"
	load_a
	ping_ok 3 "$IP4_B"
	scrape
	assert_counted ipv4 a b 3 252
	assert_counted ipv4 b a 3 252
}

# The reader still serves the last counts (3 pings each way, 252 bytes).
reader_serves_last_counts() {
	scrape
	assert_counted ipv4 a b 3 252
	assert_counted ipv4 b a 3 252
}

# Link down flushes A's neighbour entries, permanent ones too.
restore_neighbour_a() {
	tx_in "$NS_A" ip neigh replace "$IP4_B" lladdr "$MAC_B" nud permanent dev "$1"
}

detach_leaves_nothing() {
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	assert [ ! -e "$PIN_ROOT/$IF_A" ]
	run find "$PIN_ROOT" -mindepth 1
	assert_output ""
}

@test "a deleted interface: status says missing, the reader keeps the counts, detach cleans up" {
	load_and_ping
	tx_in "$NS_A" ip link delete dev "$IF_A"
	status_a "$IF_A"
	assert_output --partial "interface: missing (was ifindex"
	reader_serves_last_counts
	detach_leaves_nothing
}

@test "a recreated interface: status says recreated, a reload reattaches and counting resumes exactly" {
	load_and_ping
	tx_in "$NS_A" ip link delete dev "$IF_A"
	# The pair again, same names, same setup, as tx_setup_pair makes it.
	tx_make_pair
	status_a "$IF_A"
	assert_output --partial "interface: recreated (ifindex"
	assert_attached "$IF_A" "xdp 0 tcx_ingress 0 tcx_egress 0"
	reader_serves_last_counts
	load_a
	assert_attached "$IF_A" "xdp 1 tcx_ingress 0 tcx_egress 1"
	status_a "$IF_A"
	assert_output --partial "interface: present"
	# Counters of ranges that stay are kept: 3 pings before, 2 after.
	ping_ok 2 "$IP4_B"
	scrape
	assert_counted ipv4 a b 5 420
	assert_counted ipv4 b a 5 420
	detach_leaves_nothing
	assert_attached "$IF_A" "xdp 0 tcx_ingress 0 tcx_egress 0"
}

@test "a renamed interface: status says renamed and counting goes on under the old name" {
	load_and_ping
	tx_in "$NS_A" ip link set dev "$IF_A" down
	tx_in "$NS_A" ip link set dev "$IF_A" name txa9
	tx_in "$NS_A" ip link set dev txa9 up
	tx_wait_until 5 tx_link_has_carrier "$NS_A" txa9
	restore_neighbour_a txa9
	status_a "$IF_A"
	assert_output --partial "interface: renamed to txa9"
	reader_serves_last_counts
	# The links follow the device: 2 more pings each way, under iface="txa0".
	ping_ok 2 "$IP4_B"
	scrape
	assert_counted ipv4 a b 5 420
	assert_counted ipv4 b a 5 420
	detach_leaves_nothing
	assert_attached txa9 "xdp 0 tcx_ingress 0 tcx_egress 0"
}

@test "an interface down and up: status says down, counting resumes exactly" {
	load_and_ping
	tx_in "$NS_A" ip link set dev "$IF_A" down
	status_a "$IF_A"
	assert_output --partial "interface: present (ifindex"
	assert_output --partial "), down"
	reader_serves_last_counts
	tx_in "$NS_A" ip link set dev "$IF_A" up
	tx_wait_until 5 tx_link_has_carrier "$NS_A" "$IF_A"
	restore_neighbour_a "$IF_A"
	status_a "$IF_A"
	assert_output --partial "), up"
	refute_output --partial "not attached"
	ping_ok 2 "$IP4_B"
	scrape
	assert_counted ipv4 a b 5 420
	assert_counted ipv4 b a 5 420
	detach_leaves_nothing
	assert_attached "$IF_A" "xdp 0 tcx_ingress 0 tcx_egress 0"
}

# --- resource limits and the full public range list ---------------------------

@test "the loader works under a 64 KiB RLIMIT_MEMLOCK with the public range list" {
	[[ -r $PUBLIC_RANGES ]] || skip "no public range list at $PUBLIC_RANGES"
	run tx_in "$NS_A" prlimit --memlock=65536:65536 \
		"$BUILD/texporter-load" --pin-root "$PIN_ROOT" -i "$IF_A" -f "$PUBLIC_RANGES"
	assert_success
	assert_output --partial "attached"
	# Python's longest-prefix match over the same file names the ranges.
	local names
	names=$(tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/lpm.py" "$PUBLIC_RANGES" classify "$IP4_A" "$IP4_B" | tr '\n' ' ')
	assert_equal "$names" "private private "
	# 3 pings each way, 84 L3 bytes each (56 data + 8 ICMP + 20 IPv4).
	ping_ok 3 "$IP4_B"
	scrape
	assert_counted ipv4 private private 6 $((6 * 84))
}

@test "IPv6 prefixes from /20 to /128, sparse and dense, classify like a longest-prefix match" {
	ipv6_prefixes_classified_by_longest_match
}

@test "IPv6 prefixes classify the same in a split range table with the single-buffer XDP program" {
	export TEXPORTER_FORCE_FALLBACKS=xdp-single,table-split
	ipv6_prefixes_classified_by_longest_match
	assert_equal "$(tx_metric texporter_dataplane_info "iface=\"$IF_A\",xdp=\"single-buffer\",range_table=\"split\"")" 1
}

ipv6_prefixes_classified_by_longest_match() {
	# Below 2001:db8::/32 and 2001:db9:2::/48 more prefixes than one span
	# node holds (16-bit nodes with span nodes below them); below
	# 2001:db9::/32 a few (one span node); below 2001:dba:0:1::/64 a chain
	# down to /128 (span nodes below span nodes).
	local dense_a="" dense_b="" i
	for i in 1 2 3 4 5 6 7 8 9 a b c d e f 10 11 12; do
		dense_a+="\"2001:db8:${i}00::/40\","
		dense_b+="\"2001:db8:${i}00:${i}::/64\",\"2001:db9:2:${i}00::/64\","
	done
	cat >"$CONFIG" <<-EOF
	[
	  {"name": "wide", "ipv6": ["2001:db8::/32", "2001:db9::/32", "2001:c00::/22"]},
	  {"name": "dense-a", "ipv6": [${dense_a%,}]},
	  {"name": "dense-b", "ipv6": [${dense_b%,}, "2001:db8:5000::/36"]},
	  {"name": "sparse", "ipv6": ["2001:db9:1::/48", "2001:db9:1:1ff::/64"]},
	  {"name": "deep", "ipv6": ["2001:db9:1:100::/56", "2001:dba:0:1::/64",
	    "2001:dba:0:1:8000::/80", "2001:dba:0:1:8000:1::/96",
	    "2001:dba:0:1:8000:1:2:0/112", "2001:dba:0:1:8000:1:2:300/120",
	    "2001:dba:0:1:8000:1:2:3fe/127", "2001:dba:0:1:8000:1:2:3ff/128"]}
	]
	EOF
	load_a
	# 90 addresses: each prefix at least once.
	sampled_addresses_counted_by_longest_match ipv6 90 7 3fff::1 80 8
}

# N addresses inside CONFIG's prefixes (lpm.py sample N SEED), named by
# Python's longest match; one frame each from B to DST, an address in no
# range, of BASE + STEP x i bytes: counted under (name, other), exactly.
sampled_addresses_counted_by_longest_match() {
	local family=$1 n=$2 seed=$3 dst=$4 base=$5 step=$6 address name i=0
	local -A packets=() bytes=()
	while read -r address name; do
		sendraw_from_b --src "$address" --dst "$dst" --l3-size $((base + step * i))
		packets[$name]=$((${packets[$name]:-0} + 1))
		bytes[$name]=$((${bytes[$name]:-0} + base + step * i))
		i=$((i + 1))
	done < <("$PYTHON" "$TX_TOOLS/lpm.py" "$CONFIG" sample "$n" "$seed")
	assert_equal "$i" "$n"
	scrape
	for name in "${!packets[@]}"; do
		assert_counted "$family" "$name" other "${packets[$name]}" "${bytes[$name]}"
	done
	assert_equal "$(metric_sum texporter_captured_packets_total)" "$n"
}

@test "IPv4 prefixes below 24,576 /16s (a 2^24-entry root, 64 MiB) classify like a longest-prefix match, one element and split" {
	# /24s in 25,000 distinct /16s make the loader take the 24-bit IPv4
	# root; /28s and /32s below some of them need nodes under it.
	"$PYTHON" - "$CONFIG" <<-'EOF'
	import json, sys
	names = ["n%d" % k for k in range(5)]
	ranges = {name: [] for name in names}
	for i in range(25000):
	    a, b = 1 + i // 256, i % 256
	    ranges[names[i % 5]].append("%d.%d.7.0/24" % (a, b))
	    if i % 50 == 0:
	        ranges[names[(i + 1) % 5]].append("%d.%d.7.32/28" % (a, b))
	        ranges[names[(i + 2) % 5]].append("%d.%d.7.33" % (a, b))
	json.dump([{"name": n, "ipv4": p} for n, p in ranges.items()], open(sys.argv[1], "w"))
	EOF
	local forced
	for forced in "" xdp-single,table-split; do
		export TEXPORTER_FORCE_FALLBACKS=$forced
		load_a
		run tx_load "$NS_A" --status -i "$IF_A"
		assert_line --regexp '^  trie: .*first strides ipv4 24, '
		sampled_addresses_counted_by_longest_match ipv4 60 11 198.51.100.1 64 4
		tx_load "$NS_A" -i "$IF_A" --detach >/dev/null
	done
}

@test "the public range list loads and classifies traffic between its ranges by name" {
	public_ranges_classified_by_name
}

@test "the public range list (an 11 MiB table) split into 4 MiB elements classifies the same" {
	export TEXPORTER_FORCE_FALLBACKS=xdp-single,table-split
	public_ranges_classified_by_name
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_line "  data plane: xdp single-buffer, range table split in 3 elements of 4 MiB"
	scrape
	assert_equal "$(tx_metric texporter_dataplane_info "iface=\"$IF_A\",xdp=\"single-buffer\",range_table=\"split\"")" 1
	assert_equal "$(tx_metric texporter_trie_entries "iface=\"$IF_A\"")" $((3 * 1048576))
}

public_ranges_classified_by_name() {
	[[ -r $PUBLIC_RANGES ]] || skip "no public range list at $PUBLIC_RANGES"
	local counts
	counts=$("$PYTHON" "$TX_TOOLS/lpm.py" "$PUBLIC_RANGES" count)
	run tx_load "$NS_A" -i "$IF_A" -f "$PUBLIC_RANGES"
	assert_success
	# Distinct prefixes per family, as Python counts them.
	assert_output --partial "${counts% *} IPv4 + ${counts#* } IPv6 prefixes"
	# For each range an IPv4 and an IPv6 address it wins by longest match
	# (Python's), plus documentation addresses that match nothing.
	local -a names v4 v6
	local name a4 a6
	while read -r name a4 a6; do
		names+=("$name") v4+=("$a4") v6+=("$a6")
	done < <("$PYTHON" "$TX_TOOLS/lpm.py" "$PUBLIC_RANGES" pick)
	run "$PYTHON" "$TX_TOOLS/lpm.py" "$PUBLIC_RANGES" classify 198.51.100.7 2001:db8::7
	assert_output "other
other"
	names+=(other) v4+=(198.51.100.7) v6+=(2001:db8::7)
	# Around the ring range i -> range i+1: i+1 frames of 64 + 4i bytes
	# (IPv4) and 80 + 8i bytes (IPv6), into XDP on txa0.
	local n=${#names[@]} i j
	assert_equal "$n" 6
	for ((i = 0; i < n; i++)); do
		j=$(((i + 1) % n))
		[[ ${v4[i]} != - && ${v6[i]} != - ]] || fail "no address found for ${names[i]}"
		sendraw_from_b --count $((i + 1)) --src "${v4[i]}" --dst "${v4[j]}" --l3-size $((64 + 4 * i))
		sendraw_from_b --count $((i + 1)) --src "${v6[i]}" --dst "${v6[j]}" --l3-size $((80 + 8 * i))
	done
	scrape
	assert_equal "$(tx_metric texporter_prefixes "iface=\"$IF_A\",family=\"ipv4\"") $(tx_metric texporter_prefixes "iface=\"$IF_A\",family=\"ipv6\"")" "$counts"
	for ((i = 0; i < n; i++)); do
		j=$(((i + 1) % n))
		assert_counted ipv4 "${names[i]}" "${names[j]}" $((i + 1)) $(((i + 1) * (64 + 4 * i)))
		assert_counted ipv6 "${names[i]}" "${names[j]}" $((i + 1)) $(((i + 1) * (80 + 8 * i)))
	done
	assert_equal "$(metric_sum texporter_captured_packets_total)" $((2 * (1 + 2 + 3 + 4 + 5 + 6)))
}
