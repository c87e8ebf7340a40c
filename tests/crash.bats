#!/usr/bin/env bats
# texporter-load killed at any instant: a first load, a same-size reload, a
# reload that grows the counter map, one that replaces the unmatched map,
# one that adds its cache, the conversion of an older loader's pins and a
# --detach are killed (strace's fault injection) at every bpf(2), rename,
# chown, chmod, unlink and mkdir call in turn; then the loader runs once
# more and the state must be whole: counts equal the packets sent, no
# series under a name the config does not have, meta.seq even, both
# directions on programs using the pinned maps, pins owned and moded as
# configured (tests/tools/pinstate.py checks the pins without texporter's
# code). Then random-delay kills under traffic.
# TX_CRASH_STRIDE=K kills at every Kth call only, for a quicker look
# (default 1: every call, 960 points; the file takes 8 to 27 minutes).

load helpers

# The calls a sweep kills at, each counted on its own (strace keeps one
# injection counter per system call); TX_CRASH_CALLS="..." names others.
SWEEP_CALLS=${TX_CRASH_CALLS:-"bpf rename chown fchownat chmod fchmodat unlink unlinkat mkdir"}

setup() {
	tx_setup_bpffs
	tx_setup_pair
	command -v strace >/dev/null || skip "strace is not installed (make deps)"
	# pinstate.py reads the egress attachment as a TCX link.
	[[ $(tx_default_tc_mode) == tcx ]] || skip "the checks read TCX links (Linux >= 6.6)"
	A=$BATS_TEST_TMPDIR/a.json
	B=$BATS_TEST_TMPDIR/b.json
	GROW=$BATS_TEST_TMPDIR/grow.json
	tx_write_config "$A" "lan=$IP4_A" "peer=$IP4_B" "old=192.0.2.0/24"
	tx_write_config "$B" "lan=$IP4_A" "peer=$IP4_B" "new=198.51.100.0/24"
	local many=() i
	for i in $(seq 1 20); do many+=("n$i=203.0.113.$i"); done
	# 22 names: more than the 16 ids of the first counter map.
	tx_write_config "$GROW" "lan=$IP4_A" "peer=$IP4_B" "${many[@]}"
	DIR=$PIN_ROOT/$IF_A
	SENT=0
}

teardown() {
	tx_teardown
}

# --- helpers of this file ---------------------------------------------------

# Every run names the pins' group (root), so that a texporter group
# appearing or going meanwhile cannot change what is expected.
loader() {
	tx_load "$NS_A" -i "$IF_A" --group root "$@"
}

# calls_of CALL: how many CALL calls the last count_calls run made.
calls_of() {
	grep -c "^[0-9]* *$1(" "$BATS_TEST_TMPDIR/strace.out" || true
}

# count_calls ARGS...: runs texporter-load ARGS under strace, for real,
# recording its calls for calls_of.
count_calls() {
	tx_in "$NS_A" strace -f -qq -o "$BATS_TEST_TMPDIR/strace.out" \
		-e trace="${SWEEP_CALLS// /,}" \
		"$BUILD/texporter-load" --pin-root "$PIN_ROOT" -i "$IF_A" --group root "$@" >/dev/null 2>&1
}

# kill_at CALL N ARGS...: texporter-load ARGS, killed at its Nth CALL call
# (or run to its end when it makes fewer). Sets KILLED=1 when it was killed.
kill_at() {
	local call=$1 n=$2 rc=0
	shift 2
	tx_in "$NS_A" strace -f -qq -o /dev/null -e trace="$call" \
		-e inject="$call:signal=KILL:when=$n" \
		"$BUILD/texporter-load" --pin-root "$PIN_ROOT" -i "$IF_A" --group root "$@" >/dev/null 2>&1 || rc=$?
	KILLED=0
	((rc == 0)) || KILLED=1
}

# send N: N pings from NS_A, each counted once as lan->peer (IF_A's egress)
# and its answer once as peer->lan (IF_A's ingress).
send() {
	tx_in "$NS_A" ping -q -c "$1" -i 0.01 -W 2 "$IP4_B" >/dev/null ||
		fail "ping lost a packet"
	SENT=$((SENT + $1))
}

# config_names CONFIG: CONFIG_NAMES[CONFIG] holds its names and the
# unmatched range's (read once per config: a sweep checks hundreds of times).
declare -gA CONFIG_NAMES
config_names() {
	[[ -n ${CONFIG_NAMES[$1]:-} ]] || CONFIG_NAMES[$1]="$("$PYTHON" -c '
import json, sys
print(" ".join(r["name"] for r in json.load(open(sys.argv[1]))), "other")' "$1")"
}

# check_whole WHAT CONFIG...: the state is whole, counts equal SENT, and
# every series is under a name of one of the CONFIGs.
check_whole() {
	local what=$1 text names problems series config
	shift
	problems=$(tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/pinstate.py" "$DIR" "$IF_A" 0 2>&1) ||
		fail "$what: $problems"
	text=$(tx_read "$NS_A") || fail "$what: texporter-read failed: $text"
	for series in 'src="lan",dst="peer"' 'src="peer",dst="lan"'; do
		[[ $(tx_metric texporter_captured_packets_total \
			"iface=\"$IF_A\",family=\"ipv4\",$series" "$text") == "$SENT" ]] ||
			fail "$what: $series counted $(tx_metric texporter_captured_packets_total \
				"iface=\"$IF_A\",family=\"ipv4\",$series" "$text"), sent $SENT"
	done
	names=" "
	for config in "$@"; do
		config_names "$config"
		names+="${CONFIG_NAMES[$config]} "
	done
	while read -r series; do
		[[ $names == *" $series "* ]] || fail "$what: a series under \"$series\", not in the config"
	done < <(grep '^texporter_captured_packets_total{' <<<"$text" |
		sed 's/.*src="\([^"]*\)",dst="\([^"]*\)".*/\1\n\2/')
}

# sweep PREPARE RECHECK: for every call of SWEEP_CALLS that texporter-load
# makes with RUN_ARGS after PREPARE (which sets RUN_ARGS), kills it there
# (after PREPARE again) and runs RECHECK WHAT. Says how many points.
sweep() {
	local prepare=$1 recheck=$2 call n count points=0 counts=()
	"$prepare"
	count_calls "${RUN_ARGS[@]}"
	for call in $SWEEP_CALLS; do counts+=("$call=$(calls_of "$call")"); done
	"$recheck" "counting run"
	for call in $SWEEP_CALLS; do
		count=$(calls_of "$call")
		for ((n = 1; n <= count; n += ${TX_CRASH_STRIDE:-1})); do
			"$prepare"
			kill_at "$call" "$n" "${RUN_ARGS[@]}"
			"$recheck" "killed at $call #$n (killed: $KILLED)"
			points=$((points + 1))
		done
	done
	echo "# $points kill points: ${counts[*]}" >&3
}

# loaded_fresh CONFIG: nothing loaded, then a load of CONFIG that has
# counted 2 pings each way.
loaded_fresh() {
	loader --detach >/dev/null || fail "--detach failed"
	SENT=0
	run loader -f "$1"
	assert_success
	send 2
}

# load_and_check WHAT CONFIG ARGS...: the next load (CONFIG, ARGS) succeeds,
# counts 2 more pings each way, and leaves a whole state (check_whole).
load_and_check() {
	local what=$1 config=$2
	shift 2
	run loader -f "$config" "$@"
	assert_success
	send 2
	check_whole "$what" "$config"
}

# --- a first load -----------------------------------------------------------

first_prepare() {
	loader --detach >/dev/null || fail "--detach failed"
	SENT=0
	RUN_ARGS=(-f "$A")
}

first_recheck() {
	load_and_check "$1" "$A"
}

@test "a first load killed at any call: the next load leaves a whole state that counts every packet" {
	sweep first_prepare first_recheck
}

# --- a same-size reload -----------------------------------------------------

# Alternates between A and B: each kill point reloads to the other one.
reload_prepare() {
	if [[ ! -e $DIR/meta ]]; then
		run loader -f "$A"
		assert_success
		TARGET=$A
	fi
	send 1
	[[ $TARGET == "$A" ]] && TARGET=$B || TARGET=$A
	RUN_ARGS=(-f "$TARGET")
}

# Every other time --status runs first: it must complete (or take back)
# the interrupted change by itself.
reload_recheck() {
	STATUS_FIRST=$((1 - ${STATUS_FIRST:-0}))
	if ((STATUS_FIRST)); then
		run loader --status
		assert_success
		check_whole "$1, after --status" "$A" "$B"
	fi
	run loader -f "$TARGET"
	assert_success
	send 2
	check_whole "$1" "$TARGET"
}

@test "a reload killed at any call: --status or the next load completes it and no count is lost" {
	sweep reload_prepare reload_recheck
}

# --- a reload that grows the counter map ------------------------------------

grow_prepare() {
	loaded_fresh "$A"
	RUN_ARGS=(-f "$GROW")
}

grow_recheck() {
	load_and_check "$1" "$GROW"
}

@test "a reload that grows the counter map killed at any call: the next load completes it and no count is lost" {
	sweep grow_prepare grow_recheck
}

# --- a reload that replaces the unmatched map -------------------------------

unmatched_prepare() {
	loaded_fresh "$A"
	RUN_ARGS=(-f "$A" --unmatched-prefix-len 16,48)
}

# The map made for /16 is the one pinned (and, by pinstate.py, the one
# both directions count into).
unmatched_recheck() {
	load_and_check "$1" "$A" --unmatched-prefix-len 16,48
	[[ $(bpftool -j map show pinned "$DIR/unmatched" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["name"])') == texp_unm_16_48 ]] ||
		fail "$1: the pinned unmatched map is not the /16 one"
}

@test "a reload that changes the unmatched prefix length killed at any call: the next load completes it and no count is lost" {
	sweep unmatched_prepare unmatched_recheck
}

# --- a reload that adds the unmatched cache beside a kept map ---------------

# Pins of a texporter-load before the unmatched cache: the same load
# without the unmatched_cache pin. The map is kept, so its id is too.
cache_prepare() {
	loaded_fresh "$A"
	rm "$DIR/unmatched_cache"
	UNMATCHED_ID=$(bpftool -j map show pinned "$DIR/unmatched" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	RUN_ARGS=(-f "$A")
}

cache_recheck() {
	load_and_check "$1" "$A"
	[[ -e $DIR/unmatched_cache ]] || fail "$1: no unmatched_cache pin"
	[[ $(bpftool -j map show pinned "$DIR/unmatched" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["id"])') == "$UNMATCHED_ID" ]] ||
		fail "$1: the unmatched map was replaced, not kept"
}

@test "a reload that adds the unmatched cache beside a kept map killed at any call: the next load completes it and no count is lost" {
	sweep cache_prepare cache_recheck
}

# --- converting an older texporter-load's pins ------------------------------

# Layout-1 pins for A, as the texporter-load before counter slots left
# them (made by the fixture, without attachments), with 5 packets each
# way already counted.
convert_prepare() {
	loader --detach >/dev/null || fail "--detach failed"
	"$BUILD/tests/texporter-fixture" "$PIN_ROOT" <<-EOF || fail "texporter-fixture failed"
		iface $IF_A capacity=16 layout=1
		meta ifname=$IF_A ranges=4 prefixes4=3
		name 0 other
		name 1 lan
		name 2 peer
		name 3 old
		count 4 1 2 300 3 0
		count 4 1 2 200 2 last
		count 4 2 1 500 5 0
	EOF
	SENT=5
	RUN_ARGS=(-f "$A")
}

convert_recheck() {
	run loader -f "$A"
	((status == 0)) || fail "$1: the next load failed: $output; pins: $(ls "$DIR")"
	send 2
	check_whole "$1" "$A"
}

@test "converting an older texporter-load's pins killed at any call: the next load completes it with every count" {
	sweep convert_prepare convert_recheck
}

# --- a detach ---------------------------------------------------------------

detach_prepare() {
	loaded_fresh "$A"
	RUN_ARGS=(--detach)
}

# The next run is --detach, or a load: after a kill before the detach's
# first step the old state and its counts are still there; after it, the
# interface is gone and a load starts from zero.
detach_recheck() {
	ROUND=$((${ROUND:-0} + 1))
	if ((ROUND % 2)); then
		run loader --detach
		assert_success
		[[ ! -e $DIR ]] || fail "$1: $DIR is still there: $(ls "$DIR")"
		[[ -z $(tx_in "$NS_A" bpftool -j net show dev "$IF_A" | grep -o '"id":[0-9]*') ]] ||
			fail "$1: still attached: $(tx_in "$NS_A" bpftool net show dev "$IF_A")"
		return
	fi
	[[ -e $DIR/meta ]] || SENT=0
	run loader -f "$A"
	assert_success
	send 2
	check_whole "$1" "$A"
}

@test "a --detach killed at any call: the next --detach or load finishes it, or finds the old state whole" {
	sweep detach_prepare detach_recheck
}

# --- random kills under traffic ---------------------------------------------

# SIGINT to the ping running in NS_A: it prints its summary and exits.
stop_ping() {
	local pid
	for pid in $(ip netns pids "$NS_A"); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == ping ]] && kill -INT "$pid"
	done
	return 0
}

@test "reloads killed after random delays under traffic lose no packet and never leave seq odd" {
	local round configs=("$B" "$GROW" "$A") target text out tx rx start span delay killed=0
	run loader -f "$A"
	assert_success
	# The delays fall in the last quarter of a reload, as long as one takes
	# here: before, it only reads, builds and loads; the changes come last.
	start=$(date +%s%N)
	loader -f "$B" >/dev/null || fail "reload to $B failed"
	span=$((($(date +%s%N) - start) / 1000000 + 1))
	tx_bg "$NS_A" ping -i 0.002 "$IP4_B"
	for round in $(seq 1 30); do
		target=${configs[round % 3]}
		delay=$((span * 3 / 4 + RANDOM % (span / 4 + 1)))
		tx_in "$NS_A" timeout -s KILL "$((delay / 1000)).$(printf %03d $((delay % 1000)))" \
			"$BUILD/texporter-load" --pin-root "$PIN_ROOT" -i "$IF_A" --group root -f "$target" \
			>/dev/null 2>&1 || killed=$((killed + 1))
		run loader -f "$target"
		assert_success
		out=$(tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/pinstate.py" "$DIR" "$IF_A" 0 2>&1) ||
			fail "round $round (killed after $delay of $span ms): $out"
	done
	echo "# $killed of 30 reloads killed, after $((span * 3 / 4)) to $span ms" >&3
	stop_ping
	wait "$TX_BG_PID" || true
	read -r tx rx < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$TX_BG_LOG")
	[[ -n $tx ]] || fail "no ping summary: $(cat "$TX_BG_LOG")"
	text=$(tx_read "$NS_A")
	assert_equal "$(tx_metric texporter_captured_packets_total "iface=\"$IF_A\",family=\"ipv4\",src=\"lan\",dst=\"peer\"" "$text")" "$tx"
	assert_equal "$(tx_metric texporter_captured_packets_total "iface=\"$IF_A\",family=\"ipv4\",src=\"peer\",dst=\"lan\"" "$text")" "$rx"
}

# --- what a killed loader must not leave ------------------------------------

@test "a directory a killed first load left is removed by the next load, which attaches normally" {
	kill_at rename 3 -f "$A"
	assert_equal "$KILLED" 1
	[[ -d $DIR && ! -e $DIR/meta ]] || fail "expected a directory without meta: $(ls "$DIR")"
	run loader -f "$A"
	assert_success
	assert_line --partial "removed what an interrupted first load or --detach left"
	assert_line --partial "$IF_A: attached:"
	send 1
	check_whole "after the rerun" "$A"
}

@test "a reload killed after its journal is completed by --status, which says so" {
	run loader -f "$A"
	assert_success
	send 1
	# Renames 1-6 stage pins (programs, names, ranges, and counters and
	# shared: B takes a name away, so the counter maps are replaced), 7 is
	# the journal's: 8 comes after the switch.
	kill_at rename 8 -f "$B"
	assert_equal "$KILLED" 1
	run loader --status -i "$IF_A"
	assert_success
	assert_line "$IF_A: completed the reload an interrupted texporter-load began"
	send 1
	check_whole "after --status" "$B"
}
