#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# Unmatched discovery: texporter-load --unmatched-prefix-len and
# --unmatched-entries, and what texporter-read makes of it (the
# texporter_unmatched_* metrics, --top-unmatched, --unmatched, the section
# of --top). texporter runs on IF_A in NS_A with the range lan (IF_A's own
# addresses); frames come from sendraw.py, from IF_B (IF_A's ingress) or
# from IF_A (its egress), with addresses outside every range.

load helpers

setup() {
	tx_setup_bpffs
	tx_setup_pair
	CFG=$BATS_TEST_TMPDIR/ranges.json
	tx_write_config "$CFG" lan=$IP4_A,$IP6_A
}

teardown() {
	tmux -L "${TMUX_SOCKET:-none}" kill-server 2>/dev/null || true
	tx_teardown
}

load_a() {
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG" "$@"
	assert_success
}

# Frames into IF_A (its ingress hook): tx_send_in SRC DST ARGS...
send_in() {
	local src=$1 dst=$2
	shift 2
	run tx_sendraw "$NS_B" --iface "$IF_B" --src "$src" --dst "$dst" "$@"
	assert_success
}

# Frames out of IF_A (its egress hook): tx_send_out SRC DST ARGS...
send_out() {
	local src=$1 dst=$2
	shift 2
	run tx_sendraw "$NS_A" --iface "$IF_A" --src "$src" --dst "$dst" "$@"
	assert_success
}

scrape() {
	run tx_read "$NS_A" "$@"
	assert_success
	SCRAPE=$output
}

top_bytes() {
	tx_metric texporter_unmatched_top_bytes_total "iface=\"$IF_A\",family=\"$1\",side=\"$2\",prefix=\"$3\"" "$SCRAPE"
}

top_packets() {
	tx_metric texporter_unmatched_top_packets_total "iface=\"$IF_A\",family=\"$1\",side=\"$2\",prefix=\"$3\"" "$SCRAPE"
}

# Sum of texporter_captured_{bytes,packets}_total (UNIT) of FAMILY whose
# src (SIDE=src) or dst (SIDE=dst) is "other".
other_total() {
	local unit=$1 family=$2 side=$3
	awk -v m="texporter_captured_${unit}_total{" -v f="family=\"$family\"" -v s="$side=\"other\"" '
		index($0, m) == 1 && index($0, f) && index($0, s) { n += $2 } END { print n + 0 }' <<<"$SCRAPE"
}

# send_in_on CPU SRC COUNT: COUNT frames of 100 bytes from SRC into IF_A,
# sent on CPU (veth runs IF_A's ingress hook on the sending CPU).
send_in_on() {
	run taskset -c "$1" nsenter --net="/run/netns/$NS_B" -- "$PYTHON" "$TX_TOOLS/sendraw.py" \
		--iface "$IF_B" --src "$2" --dst "$IP4_A" --count "$3" --l3-size 100
	assert_success
}

# cache_counts PREFIX: "SLOT:CPU... CACHE_PACKETS MAP_PACKETS" of the IPv4
# source /24 PREFIX (tests/tools/unmatched_cache.py).
cache_counts() {
	"$PYTHON" "$TX_TOOLS/unmatched_cache.py" counts "$PIN_ROOT/$IF_A" 4 src "$1" 24
}

untracked() {
	tx_metric "texporter_unmatched_untracked_$1_total" "iface=\"$IF_A\",family=\"$2\",side=\"$3\"" "$SCRAPE"
}

@test "unmatched IPv4 traffic both ways, VLAN-tagged too, is counted per /24 and side, exactly" {
	load_a
	send_in 198.51.100.7 "$IP4_A" --count 3 --l3-size 100
	send_in 198.51.100.200 "$IP4_A" --count 2 --l3-size 150 --vlan 100
	send_out "$IP4_A" 203.0.113.9 --count 4 --l3-size 200
	send_in 198.51.100.9 203.0.113.77 --count 1 --l3-size 100
	scrape
	assert_equal "$(top_bytes ipv4 src 198.51.100.0/24)" 700
	assert_equal "$(top_packets ipv4 src 198.51.100.0/24)" 6
	assert_equal "$(top_bytes ipv4 dst 203.0.113.0/24)" 900
	assert_equal "$(top_packets ipv4 dst 203.0.113.0/24)" 5
	# Nothing else, and together they are what "other" counted.
	assert_equal "$(grep -c '^texporter_unmatched_top_bytes_total{' <<<"$SCRAPE")" 2
	assert_equal "$(other_total bytes ipv4 src)" 700
	assert_equal "$(other_total bytes ipv4 dst)" 900
	assert_equal "$(untracked bytes ipv4 src)" 0
	assert_equal "$(untracked packets ipv4 dst)" 0
}

@test "unmatched IPv6 traffic both ways, VLAN-tagged too, is counted per /48 and side, exactly" {
	load_a
	send_in 2001:db8:1:2::1 "$IP6_A" --count 2 --l3-size 120
	send_in 2001:db8:1:ffff::9 "$IP6_A" --count 3 --l3-size 80 --vlan 100 --vlan 200
	send_out "$IP6_A" 2001:db8:5:77::1 --count 1 --l3-size 300
	scrape
	assert_equal "$(top_bytes ipv6 src 2001:db8:1::/48)" 480
	assert_equal "$(top_packets ipv6 src 2001:db8:1::/48)" 5
	assert_equal "$(top_bytes ipv6 dst 2001:db8:5::/48)" 300
	assert_equal "$(top_packets ipv6 dst 2001:db8:5::/48)" 1
	assert_equal "$(other_total bytes ipv6 src)" 480
	assert_equal "$(other_total packets ipv6 dst)" 1
}

@test "--unmatched-prefix-len sets the lengths: /16 and /32 aggregate wider" {
	load_a --unmatched-prefix-len 16,32
	send_in 198.51.100.7 "$IP4_A" --count 1 --l3-size 100
	send_in 198.51.7.7 "$IP4_A" --count 1 --l3-size 100
	send_in 2001:db8:1::1 "$IP6_A" --count 1 --l3-size 100
	send_in 2001:db8:2::1 "$IP6_A" --count 1 --l3-size 100
	scrape
	assert_equal "$(top_bytes ipv4 src 198.51.0.0/16)" 200
	assert_equal "$(top_bytes ipv6 src 2001:db8::/32)" 200
}

@test "5,000 unmatched /24s: at most K series per family and side, biggest first; tracked + untracked = other" {
	load_a
	# Four big ones first, so that they are tracked, then 5,000 of one packet.
	send_in 198.18.0.1 "$IP4_A" --count 9 --l3-size 100
	send_in 198.18.1.1 "$IP4_A" --count 7 --l3-size 100
	send_in 198.18.2.1 "$IP4_A" --count 5 --l3-size 100
	send_in 198.18.3.1 "$IP4_A" --count 3 --l3-size 100
	send_in 100.64.0.1 "$IP4_A" --src-spread 5000 --l3-size 60
	scrape --top-unmatched 3
	run awk '/^texporter_unmatched_top_bytes_total\{/ { sub(/.*prefix="/, ""); sub(/"\}/, ""); print }' <<<"$SCRAPE"
	assert_output "198.18.0.0/24 900
198.18.1.0/24 700
198.18.2.0/24 500"
	assert_equal "$(grep -c '^texporter_unmatched_top_packets_total{' <<<"$SCRAPE")" 3
	# 4,096 entries: the four, then 4,092 of the 5,000; 908 untracked.
	assert_equal "$(untracked packets ipv4 src)" 908
	assert_equal "$(untracked bytes ipv4 src)" $((908 * 60))
	run tx_read "$NS_A" --unmatched
	assert_success
	local tracked_bytes tracked_packets rows
	rows=$(awk -F'\t' '$2 == "ipv4" && $3 == "src" && $4 != "untracked"' <<<"$output" | wc -l)
	assert_equal "$rows" 4096
	tracked_bytes=$(awk -F'\t' '$2 == "ipv4" && $3 == "src" { n += $5 } END { print n }' <<<"$output")
	tracked_packets=$(awk -F'\t' '$2 == "ipv4" && $3 == "src" { n += $6 } END { print n }' <<<"$output")
	assert_equal "$tracked_bytes" "$(other_total bytes ipv4 src)"
	assert_equal "$tracked_packets" "$(other_total packets ipv4 src)"
	assert_equal "$tracked_packets" $((9 + 7 + 5 + 3 + 5000))
}

@test "a tracked prefix counts in its slot of the CPU's cache after its first packet; a read adds both" {
	load_a
	local slot
	slot=$("$PYTHON" "$TX_TOOLS/unmatched_cache.py" slot 4 src 198.51.100.0)
	send_in_on 0 198.51.100.7 10
	run cache_counts 198.51.100.0
	# The first packet inserts the prefix into the map; the other nine find
	# it in the slot it then claimed on CPU 0.
	assert_output "$slot:0 9 1"
	if (($(nproc) > 1)); then
		# On another CPU, the first packet goes to the map again.
		send_in_on 1 198.51.100.8 5
		run cache_counts 198.51.100.0
		assert_output "$slot:0,$slot:1 13 2"
	else
		send_in_on 0 198.51.100.8 5
		run cache_counts 198.51.100.0
		assert_output "$slot:0 14 1"
	fi
	scrape
	assert_equal "$(top_packets ipv4 src 198.51.100.0/24)" 15
	assert_equal "$(top_bytes ipv4 src 198.51.100.0/24)" 1500
}

@test "a prefix whose cache slot another prefix holds counts in the map, exactly" {
	load_a
	local slot other
	slot=$("$PYTHON" "$TX_TOOLS/unmatched_cache.py" slot 4 src 198.51.100.0)
	other=$("$PYTHON" "$TX_TOOLS/unmatched_cache.py" collide src 198.51.100.0)
	other=${other%.0}
	send_in_on 0 198.51.100.7 4
	send_in_on 0 "$other.7" 6
	run cache_counts 198.51.100.0
	assert_output "$slot:0 3 1"
	run cache_counts "$other.0"
	assert_output "- 0 6"
	scrape
	assert_equal "$(top_packets ipv4 src 198.51.100.0/24)" 4
	assert_equal "$(top_packets ipv4 src "$other.0/24")" 6
	assert_equal "$(other_total packets ipv4 src)" 10
}

@test "a reload over an unmatched map without its cache (an older texporter-load's pins) keeps the map's counts and adds a cache" {
	load_a
	send_in_on 0 198.51.100.7 7
	run cache_counts 198.51.100.0
	assert_output "$("$PYTHON" "$TX_TOOLS/unmatched_cache.py" slot 4 src 198.51.100.0):0 6 1"
	# An older texporter-load pinned no cache (its programs had none); the
	# six packets in this one's are gone with the pin.
	rm "$PIN_ROOT/$IF_A/unmatched_cache"
	scrape
	assert_equal "$(top_packets ipv4 src 198.51.100.0/24)" 1
	load_a
	assert_output --partial reloaded
	[[ -e $PIN_ROOT/$IF_A/unmatched_cache ]]
	send_in_on 0 198.51.100.7 5
	run cache_counts 198.51.100.0
	assert_output --regexp " 4 2$"
	scrape
	assert_equal "$(top_packets ipv4 src 198.51.100.0/24)" 6
	run tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/pinstate.py" "$PIN_ROOT/$IF_A" "$IF_A" 0
	assert_success
}

@test "--unmatched prints the table biggest first with each prefix's share of the unmatched traffic" {
	load_a
	send_in 198.51.100.7 "$IP4_A" --count 3 --l3-size 100
	send_in 192.0.2.7 "$IP4_A" --count 1 --l3-size 100
	run tx_read "$NS_A" --unmatched
	assert_success
	assert_output "iface	family	side	prefix	bytes	packets	share_of_unmatched
$IF_A	ipv4	src	198.51.100.0/24	300	3	75.00%
$IF_A	ipv4	src	192.0.2.0/24	100	1	25.00%"
}

@test "--top-unmatched 0 exports no prefix, only the untracked totals" {
	load_a
	send_in 198.51.100.7 "$IP4_A" --count 1 --l3-size 100
	scrape --top-unmatched 0
	refute_line --partial texporter_unmatched_top_
	assert_line "texporter_unmatched_untracked_bytes_total{iface=\"$IF_A\",family=\"ipv4\",side=\"src\"} 0"
}

@test "--unmatched-entries 0: no map, no metric, no code in the programs" {
	load_a --unmatched-entries 0
	[[ ! -e $PIN_ROOT/$IF_A/unmatched && ! -e $PIN_ROOT/$IF_A/unmatched_cache ]]
	send_in 198.51.100.7 "$IP4_A" --count 1 --l3-size 100
	scrape
	refute_line --partial texporter_unmatched_
	assert_equal "$(tx_metric texporter_up "iface=\"$IF_A\"" "$SCRAPE")" 1
	run tx_read "$NS_A" --unmatched
	assert_success
	assert_output --partial "no unmatched prefixes are tracked"
	# The programs hold no lookup of the unmatched map or its cache: the
	# code is removed at load, so the hit and miss paths are what they were.
	local id prog
	id=$(bpftool -j map show | "$PYTHON" -c 'import json,sys; print(" ".join(str(m["id"]) for m in json.load(sys.stdin) if m.get("name") in ("unmatched", "unmatched_cache")))')
	prog=$(bpftool -j link show pinned "$PIN_ROOT/$IF_A/link_ingress" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["prog_id"])')
	[[ -n $id ]]
	run bpftool prog dump xlated id "$prog"
	assert_success
	for m in $id; do
		refute_output --partial "map[id:$m]"
	done
	# With discovery on, the same dump does show the maps it counts into.
	load_a
	prog=$(bpftool -j link show pinned "$PIN_ROOT/$IF_A/link_ingress" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["prog_id"])')
	run bpftool prog dump xlated id "$prog"
	for m in unmatched unmatched_cache; do
		id=$(bpftool -j map show pinned "$PIN_ROOT/$IF_A/$m" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
		assert_output --partial "map[id:$id]"
	done
}

@test "reload keeps the prefixes with the same options, starts anew when the length changes, removes them with 0" {
	load_a
	send_in 198.51.100.7 "$IP4_A" --count 2 --l3-size 100
	tx_write_config "$CFG" lan=$IP4_A,$IP6_A,10.99.0.0/16
	load_a
	assert_output --partial reloaded
	scrape
	assert_equal "$(top_bytes ipv4 src 198.51.100.0/24)" 200
	load_a --unmatched-prefix-len 20,48
	scrape
	assert_equal "$(top_bytes ipv4 src 198.51.100.0/24)" 0
	send_in 198.51.100.7 "$IP4_A" --count 1 --l3-size 100
	scrape
	assert_equal "$(top_bytes ipv4 src 198.51.96.0/20)" 100
	load_a --unmatched-entries 0
	[[ ! -e $PIN_ROOT/$IF_A/unmatched && ! -e $PIN_ROOT/$IF_A/unmatched_cache ]]
	scrape
	refute_line --partial texporter_unmatched_
	load_a
	[[ -e $PIN_ROOT/$IF_A/unmatched && -e $PIN_ROOT/$IF_A/unmatched_cache ]]
}

@test "the unmatched pins are readable by the readers' group only" {
	groupadd -f txunm
	load_a --group txunm
	run stat -c '%U:%G %a' "$PIN_ROOT/$IF_A/unmatched" "$PIN_ROOT/$IF_A/unmatched_cache"
	assert_output "root:txunm 440
root:txunm 440"
	groupdel txunm || true
}

@test "bad --unmatched-prefix-len and --unmatched-entries are usage errors that name the fix" {
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG" --unmatched-prefix-len 24
	assert_failure 2
	assert_output --partial 'use V4,V6'
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG" --unmatched-prefix-len 33,48
	assert_failure 2
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG" --unmatched-prefix-len 24,129
	assert_failure 2
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG" --unmatched-entries 1000001
	assert_failure 2
	run tx_read "$NS_A" --top-unmatched many
	assert_failure 2
	[[ ! -e $PIN_ROOT/$IF_A ]]
}

@test "--top prints the top unmatched prefixes as rows of kind unmatched, with rates" {
	load_a
	TOP_LOG=$BATS_TEST_TMPDIR/top.tsv
	"$BUILD/texporter-read" --pin-root "$PIN_ROOT" --top --interval 0.5 >"$TOP_LOG" 2>&1 3>&- &
	TX_BG_PIDS+=("$!")
	send_in 198.51.100.7 "$IP4_A" --count 4 --l3-size 100
	tx_wait_until 10 grep -qP "^unmatched\t$IF_A\tipv4\t198.51.100.0/24\t\tok\t400\t4\t" "$TOP_LOG"
}

@test "--top on a terminal shows the unmatched section" {
	load_a
	send_in 198.51.100.7 "$IP4_A" --count 4 --l3-size 100
	TMUX_SOCKET=tx$(tx_random_suffix)
	tmux -L "$TMUX_SOCKET" -f /dev/null -u new-session -d -s top -x 100 -y 30 \
		"exec env TERM=screen LC_ALL=C.UTF-8 $BUILD/texporter-read --pin-root $PIN_ROOT --top --interval 0.5"
	tx_wait_until 10 bash -c "tmux -L $TMUX_SOCKET capture-pane -p -t top | grep -q 'TOP UNMATCHED PREFIXES'"
	run tmux -L "$TMUX_SOCKET" capture-pane -p -t top
	assert_output --regexp "$IF_A +ipv4 +198\.51\.100\.0/24 +-> +\*"
}

@test "--status says how many prefixes the unmatched map tracks, of how many, what found it full, and the cache slots held" {
	load_a
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_success
	assert_line "  unmatched: 0 of 4096 prefixes tracked (/24, /48); untracked 0 packets"
	assert_line "  unmatched cache: 0 slots held, of 256 per CPU"
	load_a --unmatched-entries 2 --unmatched-prefix-len 16,64
	send_in 198.51.100.7 "$IP4_A" --src-spread 3 --count 2
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_success
	# Sources in three /24s of one /16: one prefix. Then two more /16s.
	assert_line "  unmatched: 1 of 2 prefixes tracked (/16, /64); untracked 0 packets"
	# The one prefix holds its slot on each CPU that counted it after the
	# first packet there.
	assert_line --regexp "^  unmatched cache: [12] slots held, of 256 per CPU$"
	send_in 198.52.0.7 "$IP4_A" --count 1
	send_in 198.53.0.7 "$IP4_A" --count 3
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_line "  unmatched: 2 of 2 prefixes tracked (/16, /64); untracked 3 packets (full: new prefixes count as untracked)"
	load_a --unmatched-entries 0
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_line "  unmatched: discovery off"
}
