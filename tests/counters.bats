#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# Counter layout 2 (bpf/texporter.h, "Counters"; docs/architecture.md):
# per-CPU slots claimed per pair, a shared map for pairs whose slot another
# pair holds, --counter-slots, the memory formula against the kernel's own
# figure, and replacing the maps (slots changed, a name removed, layout-1
# pins converted) without losing a count. texporter runs on IF_A in NS_A
# with names r00.. = 100.64.K.0/24; frames come from sendraw.py, pinned to
# one CPU or the other, so that the CPUs claim slots independently.

load helpers

setup() {
	tx_setup_bpffs
	tx_setup_pair
	CFG=$BATS_TEST_TMPDIR/ranges.json
	write_names "$CFG" 40
}

teardown() {
	tx_teardown
}

# write_names FILE N [SKIP]: names r00..r(N-1), rK = 100.64.K.0/24, without
# the name SKIP.
write_names() {
	local file=$1 n=$2 skip=${3:-} k args=()
	for ((k = 0; k < n; k++)); do
		printf -v name 'r%02d' "$k"
		[[ $name == "$skip" ]] || args+=("$name=100.64.$k.0/24")
	done
	tx_write_config "$file" "${args[@]}"
}

load_a() {
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG" "$@"
	assert_success
}

# send CPU DIRECTION COUNT DST: COUNT frames of 100 bytes from each of the
# 40 names (100.64.0.9, 100.64.1.9, ...) to DST, sent on CPU (modulo the
# CPUs there are): DIRECTION in (IF_A's ingress, sent from IF_B) or out
# (IF_A's egress).
send() {
	local cpu=$(($1 % $(nproc))) direction=$2 count=$3 dst=$4 ns=$NS_B ifname=$IF_B
	[[ $direction == out ]] && ns=$NS_A ifname=$IF_A
	run taskset -c "$cpu" nsenter --net="/run/netns/$ns" -- "$PYTHON" "$TX_TOOLS/sendraw.py" \
		--iface "$ifname" --src 100.64.0.9 --src-spread 40 --dst "$dst" --count "$count" \
		--l3-size 100
	assert_success
}

# The traffic of traffic_check: on both CPUs, both directions, 40 sources
# to 6 destinations: 240 pairs.
DSTS=(100.64.0.1 100.64.5.1 100.64.10.1 100.64.20.1 100.64.30.1 100.64.39.1)
send_traffic() {
	local cpu dst
	for cpu in 0 1; do
		for dst in "${DSTS[@]}"; do
			send "$cpu" in 2 "$dst"
			send "$cpu" out 1 "$dst"
		done
	done
}

# traffic_check [TIMES] [GONE]: every ipv4 series of IF_A equals
# TIMES rounds of send_traffic (3 frames per pair and CPU, 100 bytes each),
# except pairs with the name GONE, which must be absent; nothing else
# counted.
traffic_check() {
	local times=${1:-1} gone=${2:-} scrape=$BATS_TEST_TMPDIR/scrape.txt
	tx_read "$NS_A" >"$scrape" || return
	"$PYTHON" - "$IF_A" "$times" "$gone" "$scrape" "${DSTS[@]}" <<-'EOF'
		import re, sys
		iface, times, gone, scrape = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
		dsts = sys.argv[5:]
		want = {}
		for d in dsts:
		    dst = "r%02d" % int(d.split(".")[2])
		    for k in range(40):
		        src = "r%02d" % k
		        if gone not in (src, dst):
		            want[(src, dst)] = 3 * 2 * times  # 2 in + 1 out, on 2 CPUs
		got = {"bytes": {}, "packets": {}}
		pat = re.compile(r'^texporter_captured_(bytes|packets)_total\{iface="([^"]*)",'
		                 r'family="ipv4",src="([^"]*)",dst="([^"]*)"\} (\d+)$')
		for line in open(scrape):
		    m = pat.match(line.strip())
		    if m and m.group(2) == iface and int(m.group(5)):
		        got[m.group(1)][(m.group(3), m.group(4))] = int(m.group(5))
		bad = []
		for pair in sorted(set(want) | set(got["packets"])):
		    p, b = got["packets"].get(pair, 0), got["bytes"].get(pair, 0)
		    if p != want.get(pair, 0) or b != 100 * want.get(pair, 0):
		        bad.append("%s -> %s: %d packets, %d bytes; want %d packets" %
		                   (pair[0], pair[1], p, b, want.get(pair, 0)))
		print("\n".join(bad[:20]) or "%d pairs exact" % len(want))
		sys.exit(1 if bad else 0)
	EOF
}

# The "counters:" line of --status: sets SLOTS, HELD and SHARED.
status_counters() {
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_success
	local line
	line=$(grep '^  counters: ' <<<"$output")
	[[ $line =~ ^\ \ counters:\ ([0-9]+)\ slots\ per\ CPU,\ ([0-9]+)\ held\;\ ([0-9]+)\ pairs ]] ||
		fail "no counters line in: $output"
	SLOTS=${BASH_REMATCH[1]} HELD=${BASH_REMATCH[2]} SHARED=${BASH_REMATCH[3]}
}

memlock() { # PIN: the map's memlock as bpftool shows it
	bpftool -j map show pinned "$PIN_ROOT/$IF_A/$1" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["bytes_memlock"])'
}

possible_cpus() { awk -F- '{ print $NF + 1 }' /sys/devices/system/cpu/possible; }

@test "--check prints the counter maps' memory: with 256 ranges on 256 CPUs within 64 MiB, by the documented formula" {
	write_names "$BATS_TEST_TMPDIR/few.json" 5
	run "$BUILD/texporter-load" --check -f "$BATS_TEST_TMPDIR/few.json"
	assert_success
	# C = 512 ids (256 names and the unmatched one), S = 4096 slots
	# (a 32 MiB budget of 24-byte slots on 256 CPUs, at least 4096).
	local counters=$((312 + 4096 * (24 * 256 + 8))) shared=$((312 + 2 * 512 * 512 * 16))
	assert_line "  counter maps with 256 ranges (256 CPUs): 512 ids per axis, 4096 slots per CPU: $((counters + shared)) bytes (32.0 MiB), $((counters + 2 * shared)) (40.0 MiB) with carry"
	(((counters + 2 * shared) <= 64 * 1024 * 1024))
	# This host: 16 ids, one slot per pair.
	local p
	p=$(possible_cpus)
	assert_line --regexp "^  counter maps on this host \($p CPUs\): 16 ids per axis, 512 slots per CPU: $((312 + 512 * (24 * p + 8) + 312 + 512 * 16)) bytes "
}

@test "a 256-range config loads with the memory --check names: bpftool's memlock of counters and shared is the formula's" {
	write_names "$CFG" 256
	run "$BUILD/texporter-load" --check -f "$CFG"
	assert_success
	local line bytes
	line=$(grep '^  counter maps on this host' <<<"$output")
	[[ $line =~ per\ CPU:\ ([0-9]+)\ bytes ]] || fail "no figure in: $output"
	bytes=${BASH_REMATCH[1]}
	load_a
	assert_equal "$(($(memlock counters) + $(memlock shared)))" "$bytes"
	status_counters
	# 2 CPUs: 2 x 512^2 slots of 24 bytes take 24 MiB, within the budget.
	assert_equal "$SLOTS" $((2 * 512 * 512))
	# With 4096 slots the figure follows the formula too.
	load_a --counter-slots 4096
	assert_equal "$(($(memlock counters) + $(memlock shared)))" \
		$((312 + 4096 * (24 * $(possible_cpus) + 8) + 312 + 2 * 512 * 512 * 16))
}

@test "with 64 slots, 240 pairs sent on both CPUs are counted exactly, part of them in the shared map" {
	load_a --counter-slots 64
	send_traffic
	run traffic_check
	assert_success
	status_counters
	assert_equal "$SLOTS" 64
	((SHARED > 0)) || fail "no pair went to the shared map: $output"
	((HELD <= 64))
}

@test "with a slot per pair nothing goes to the shared map, and counts are exact" {
	load_a
	send_traffic
	run traffic_check
	assert_success
	status_counters
	assert_equal "$SLOTS" $((2 * 64 * 64))
	assert_equal "$SHARED" 0
}

@test "changing --counter-slots on a reload keeps every count, both ways" {
	load_a
	send_traffic
	load_a --counter-slots 64
	assert_output --partial "reloaded"
	run traffic_check 1
	assert_success
	status_counters
	assert_equal "$SLOTS" 64
	assert_output --partial "plus carried totals"
	send_traffic
	load_a
	run traffic_check 2
	assert_success
	send_traffic
	run traffic_check 3
	assert_success
}

@test "with 64 slots, a removed name's counts are gone, the others kept, and a new name on its id starts from zero" {
	load_a --counter-slots 64
	send_traffic
	write_names "$CFG" 40 r05
	load_a --counter-slots 64
	run traffic_check 1 r05
	assert_success
	# The new name takes r05's id (the lowest free one) a reload later.
	write_names "$CFG" 40 r05
	"$PYTHON" - "$CFG" <<-'EOF'
		import json, sys
		ranges = json.load(open(sys.argv[1]))
		ranges.append({"name": "fresh", "ipv4": ["100.64.5.0/24"]})
		json.dump(ranges, open(sys.argv[1], "w"))
	EOF
	load_a --counter-slots 64
	run tx_read "$NS_A"
	assert_success
	refute_output --partial 'src="fresh"'
	refute_output --partial 'dst="fresh"'
	send 0 in 1 100.64.5.1
	run tx_read "$NS_A"
	assert_equal "$(tx_metric texporter_captured_packets_total "iface=\"$IF_A\",family=\"ipv4\",src=\"r07\",dst=\"fresh\"")" 1
	assert_equal "$(tx_metric texporter_captured_packets_total "iface=\"$IF_A\",family=\"ipv4\",src=\"r07\",dst=\"r00\"")" 6
}

@test "--counter-slots takes 0 or a power of two from 64 to 2097152, else exits 2 and changes nothing" {
	local bad
	for bad in 63 100 4194304 -1 x 0x40 ""; do
		run tx_load "$NS_A" -i "$IF_A" -f "$CFG" --counter-slots "$bad"
		assert_failure 2
		assert_output --partial "--counter-slots"
	done
	[[ ! -e $PIN_ROOT/$IF_A ]]
	load_a --counter-slots 2097152
	status_counters
	assert_equal "$SLOTS" $((2 * 64 * 64)) # never more than one per pair
}

@test "pins of an older texporter-load (layout 1) are shown as down, then converted by the next load with their counts" {
	write_names "$CFG" 4
	# The older layout, as its loader left it: a dense per-CPU counter per
	# pair. Id 5 was a range removed by an earlier reload, whose counts
	# that loader kept until the id was handed out again.
	run "$BUILD/tests/texporter-fixture" "$PIN_ROOT" <<-EOF
		iface $IF_A capacity=16 layout=1
		meta ifname=$IF_A ranges=5 prefixes4=4
		name 0 other
		name 1 r00
		name 2 r01
		name 3 r02
		name 4 r03
		count 4 1 2 1000 10 0
		count 4 1 2 500 5 last
		count 4 2 1 300 3 1
		count 4 1 5 700 7 0
	EOF
	assert_success
	run tx_read "$NS_A" # the only interface: nothing to show
	assert_failure
	assert_output --partial "layout version 1 of an older texporter-load"
	assert_output --partial "run texporter-load again"
	# The new name takes id 5, the lowest free one: it must not inherit.
	"$PYTHON" - "$CFG" <<-'EOF'
		import json, sys
		ranges = json.load(open(sys.argv[1]))
		ranges.append({"name": "fresh", "ipv4": ["100.64.5.0/24"]})
		json.dump(ranges, open(sys.argv[1], "w"))
	EOF
	load_a
	assert_output --partial "reloaded"
	run tx_read "$NS_A"
	assert_success
	assert_output --partial "texporter_up{iface=\"$IF_A\"} 1"
	assert_equal "$(tx_metric texporter_captured_bytes_total "iface=\"$IF_A\",family=\"ipv4\",src=\"r00\",dst=\"r01\"")" 1500
	assert_equal "$(tx_metric texporter_captured_packets_total "iface=\"$IF_A\",family=\"ipv4\",src=\"r00\",dst=\"r01\"")" 15
	assert_equal "$(tx_metric texporter_captured_packets_total "iface=\"$IF_A\",family=\"ipv4\",src=\"r01\",dst=\"r00\"")" 3
	refute_output --partial 'dst="fresh"'
	status_counters
	assert_equal "$SLOTS" 512
	# And it counts on, in layout 2.
	send 0 in 1 100.64.1.1
	run tx_read "$NS_A"
	assert_equal "$(tx_metric texporter_captured_packets_total "iface=\"$IF_A\",family=\"ipv4\",src=\"r00\",dst=\"r01\"")" 16
	assert_equal "$(tx_metric texporter_captured_packets_total "iface=\"$IF_A\",family=\"ipv4\",src=\"fresh\",dst=\"r01\"")" 1
}
