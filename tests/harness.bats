#!/usr/bin/env bats
# The test harness itself: namespaces, veth pair, bpffs, raw frames.
# Needs no texporter binary, so it tells harness trouble from product bugs.

load helpers

setup() {
	tx_setup_bpffs
	tx_setup_pair
}

teardown() {
	tx_teardown
}

# Counter deltas around a command: stat_delta NS IF STAT COMMAND...
stat_delta() {
	local ns=$1 ifname=$2 stat=$3 before after
	shift 3
	before=$(tx_link_stat "$ns" "$ifname" "$stat")
	"$@" >/dev/null
	after=$(tx_link_stat "$ns" "$ifname" "$stat")
	echo $((after - before))
}

# Capture N frames on NS_B's interface while COMMAND runs; tcpdump's
# decoding lands in $output.
capture_on_b() {
	local frames=$1 pcap=$BATS_TEST_TMPDIR/capture.pcap
	shift
	tx_bg "$NS_B" timeout 20 tcpdump -U -i "$IF_B" -c "$frames" -w "$pcap"
	tx_wait_until 5 grep -q "listening on" "$TX_BG_LOG"
	"$@"
	wait "$TX_BG_PID"
	run tcpdump -r "$pcap" -nn -e -vv
}

# Background UDP receiver in NS_B: prints "BYTES SOURCE" of the first
# datagram to its log, $TX_BG_LOG, and a copy in $BATS_TEST_TMPDIR/udp-PORT.
listen_udp_on_b() {
	local addr=$1 port=$2
	tx_bg "$NS_B" "$PYTHON" -c '
import socket, sys
addr, port, copy = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
s.settimeout(10)
data, peer = s.recvfrom(65535)
line = f"{len(data)} {peer[0]}"
print(line)
open(copy, "w").write(line + "\n")' "$addr" "$port" "$BATS_TEST_TMPDIR/udp-$port"
	tx_wait_until 5 udp_port_bound "$NS_B" "$port"
}

udp_port_bound() {
	[[ -n $(tx_in "$1" ss -Hlun "sport = :$2") ]]
}

sendraw_a() {
	tx_sendraw "$NS_A" --iface "$IF_A" "$@"
}

@test "a pair has the documented names, MACs and addresses" {
	run tx_in "$NS_A" ip -br addr show dev "$IF_A"
	assert_output --partial "$IP4_A/24"
	assert_output --partial "$IP6_A/64"
	run tx_in "$NS_B" ip -br link show dev "$IF_B"
	assert_output --partial "$MAC_B"
	assert_output --partial "LOWER_UP"
	run ip netns list
	assert_output --partial "$NS_A"
	assert_output --partial "$NS_B"
	[[ $NS_A == tx*a && $NS_B == tx*b ]]
}

@test "a pair carries no packet that the test did not send" {
	sleep 3 # longer than unsolicited MLD/IGMP report and RS intervals
	for stat in rx_packets tx_packets; do
		assert_equal "$(tx_link_stat "$NS_A" "$IF_A" "$stat")" 0
		assert_equal "$(tx_link_stat "$NS_B" "$IF_B" "$stat")" 0
	done
}

@test "neighbours are static, so there is no ARP or neighbour discovery" {
	run tx_in "$NS_A" ip neigh show dev "$IF_A"
	assert_line --regexp "^$IP4_B lladdr $MAC_B PERMANENT *\$"
	assert_line --regexp "^$IP6_B lladdr $MAC_B PERMANENT *\$"
}

@test "IPv4 ping crosses the pair with exact packet and byte counts" {
	# 56 data + 8 ICMP + 20 IPv4 + 14 Ethernet = 98 bytes per frame
	assert_equal "$(stat_delta "$NS_B" "$IF_B" rx_bytes \
		tx_in "$NS_A" ping -c 3 -i 0.2 -W 2 "$IP4_B")" $((3 * 98))
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" rx_packets)" 3
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" tx_packets)" 3
	assert_equal "$(tx_link_stat "$NS_A" "$IF_A" rx_packets)" 3
}

@test "IPv6 ping crosses the pair with exact packet and byte counts" {
	# 56 data + 8 ICMPv6 + 40 IPv6 + 14 Ethernet = 118 bytes per frame
	assert_equal "$(stat_delta "$NS_A" "$IF_A" rx_bytes \
		tx_in "$NS_A" ping -6 -c 4 -i 0.2 -W 2 "$IP6_B")" $((4 * 118))
	assert_equal "$(tx_link_stat "$NS_A" "$IF_A" tx_packets)" 4
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" rx_packets)" 4
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" tx_packets)" 4
}

@test "sendraw frames arrive on the other side with exact sizes" {
	run sendraw_a --count 7 --src "$IP4_A" --dst "$IP4_B" --l3-size 300
	assert_success
	assert_output --partial "sent 7 frames"
	assert_output --partial "l3_bytes=300 each"
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" rx_packets)" 7
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" rx_bytes)" $((7 * (300 + 14)))
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" tx_packets)" 0
}

@test "sendraw to the peer's MAC reaches its IP stack" {
	listen_udp_on_b "$IP6_B" 5555
	run sendraw_a --dst-mac "$MAC_B" --src "$IP6_A" --dst "$IP6_B" \
		--dst-port 5555 --l3-size 148 --ipv6-ext hop --ipv6-ext dst
	assert_success
	wait "$TX_BG_PID"
	# 148 - 40 IPv6 - 16 extension headers - 8 UDP = 84 payload bytes
	assert_equal "$(cat "$TX_BG_LOG")" "84 $IP6_A"
}

@test "sendraw writes 802.1ad outer and 802.1Q inner tags" {
	capture_on_b 2 sendraw_a --count 2 --src "$IP4_A" --dst "$IP4_B" \
		--vlan 100 --vlan 200 --l3-size 64
	assert_success
	assert_line --partial "ethertype 802.1Q-QinQ (0x88a8)"
	assert_output --partial "vlan 100, p 0, ethertype 802.1Q (0x8100), vlan 200, p 0, ethertype IPv4"
	assert_output --partial "length 64)"
	refute_output --partial "bad cksum"
}

@test "sendraw writes correct IPv4 header and UDP checksums, with options" {
	capture_on_b 1 sendraw_a --src "$IP4_A" --dst "$IP4_B" --ipv4-options 8 \
		--l3-size 120 --vlan 7
	assert_success
	assert_output --partial "ethertype 802.1Q (0x8100), length 138: vlan 7, p 0, ethertype IPv4"
	assert_output --partial "options (NOP"
	assert_output --partial "length 120"
	assert_output --partial "[udp sum ok]"
	refute_output --partial "bad cksum"
}

@test "sendraw IPv4 fragments carry offsets and more-fragments" {
	capture_on_b 3 sendraw_a --count 3 --fragment --src "$IP4_A" \
		--dst "$IP4_B" --l3-size 100
	assert_success
	assert_output --partial "offset 0, flags [+]"
	assert_output --partial "offset 80, flags [+]"
	assert_output --partial "offset 160, flags [none]"
	refute_output --partial "bad cksum"
}

@test "sendraw IPv4 fragments reassemble at the peer into one datagram" {
	listen_udp_on_b "$IP4_B" 5556
	run sendraw_a --dst-mac "$MAC_B" --count 3 --fragment --src "$IP4_A" \
		--dst "$IP4_B" --dst-port 5556 --l3-size 100 --ipv4-options 8
	assert_success
	wait "$TX_BG_PID"
	# 3 x (100 - 28 header) = 216 bytes of UDP, 8 of them its header
	assert_equal "$(cat "$TX_BG_LOG")" "208 $IP4_A"
}

@test "sendraw IPv6 fragments use a fragment header and reassemble at the peer" {
	listen_udp_on_b "$IP6_B" 5557
	capture_on_b 2 sendraw_a --dst-mac "$MAC_B" --count 2 --fragment \
		--src "$IP6_A" --dst "$IP6_B" --dst-port 5557 --l3-size 104
	assert_output --partial "frag (0x74780001:0|56)"
	assert_output --partial "frag (0x74780001:56|56)"
	wait "${TX_BG_PIDS[0]}"
	# 2 x (104 - 40 - 8 fragment header) = 112 bytes of UDP
	assert_equal "$(cat "$BATS_TEST_TMPDIR/udp-5557")" "104 $IP6_A"
}

@test "sendraw malformed frames arrive as built" {
	run sendraw_a --count 2 --src "$IP4_A" --dst "$IP4_B" --l3-size 200 --truncate 30
	assert_success
	assert_output --partial "frame_bytes=30 each"
	assert_equal "$(tx_link_stat "$NS_B" "$IF_B" rx_bytes)" 60

	capture_on_b 3 sendraw_a --count 3 --src "$IP4_A" --dst "$IP4_B" --l3-size 60 \
		--length-overclaim 100
	assert_output --partial "truncated-ip - 100 bytes missing"

	capture_on_b 1 sendraw_a --src "$IP4_A" --dst "$IP4_B" --bad-ihl
	assert_output --partial "bad-hlen 16"

	capture_on_b 1 sendraw_a --src "$IP4_A" --dst "$IP4_B" --bad-version
	assert_output --partial "IP6"
}

@test "sendraw refuses sizes its headers do not fit" {
	run sendraw_a --src "$IP6_A" --dst "$IP6_B" --l3-size 40 --proto tcp
	assert_failure
	assert_output --partial "headers alone need 60 bytes"
}

@test "tx_in runs inside the namespace and still sees the bpffs" {
	run tx_in "$NS_A" ip -br link
	assert_output --partial "$IF_A"
	refute_output --partial "eth0"
	run tx_in "$NS_A" stat -f -c %T "$TX_BPFFS"
	assert_output "bpf_fs"
	[[ $PIN_ROOT == "$TX_BPFFS/texporter" ]]
}

@test "tx_metric prints one exact series, or 0 when absent" {
	local text='# TYPE texporter_captured_bytes_total counter
texporter_captured_bytes_total{iface="txa0",family="ipv4",src="lan",dst="peer"} 40460
texporter_captured_bytes_total{iface="txa0",family="ipv4",src="lan",dst="peer2"} 7
texporter_captured_bytes_total{iface="txa0",family="ipv4",src="a \"q\" b",dst="x\\y"} 9
texporter_build_info 1'
	run tx_metric texporter_captured_bytes_total \
		'iface="txa0",family="ipv4",src="lan",dst="peer"' "$text"
	assert_output 40460
	run tx_metric texporter_captured_bytes_total \
		'iface="txa0",family="ipv4",src="a \"q\" b",dst="x\\y"' "$text"
	assert_output 9
	run tx_metric texporter_captured_bytes_total 'iface="txa0"' "$text"
	assert_output 0
	run tx_metric texporter_build_info '' "$text"
	assert_output 1
	output=$text
	assert_equal "$(tx_metric texporter_captured_bytes_total \
		'iface="txa0",family="ipv4",src="lan",dst="peer2"')" 7
}

@test "tx_write_config writes the original JSON range format" {
	local file=$BATS_TEST_TMPDIR/ranges.json
	tx_write_config "$file" lan=10.91.0.0/24,fd00:91::/64 'a "b"=10.0.0.1' empty=
	run "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1])))' "$file"
	assert_output "[{'name': 'lan', 'ipv4': ['10.91.0.0/24'], 'ipv6': ['fd00:91::/64']}, {'name': 'a \"b\"', 'ipv4': ['10.0.0.1'], 'ipv6': []}, {'name': 'empty', 'ipv4': [], 'ipv6': []}]"
}

@test "teardown removes namespaces, veths, processes and the bpffs, twice" {
	tx_bg "$NS_A" sleep 1000
	local sleeper=$TX_BG_PID
	tx_teardown
	run ip netns list
	refute_output --partial "$NS_A"
	refute_output --partial "$NS_B"
	run mountpoint -q "$TX_BPFFS"
	assert_failure
	run kill -0 "$sleeper"
	assert_failure
	run ip -br link
	refute_output --partial "$IF_A"
	tx_teardown
}
