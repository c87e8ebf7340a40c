#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# texporter-read --top: live rates from real traffic. texporter runs on
# IF_A in NS_A with the ranges lan (side A) and peer (side B); frames come
# from sendraw.py/stream.py. The terminal view runs inside tmux, on a tmux
# server of the test's own (-L), and is read back with capture-pane; with
# standard output not a terminal, the reader prints tab-separated tables.

load helpers

# Widths of lines with "…" in them are counted in characters.
export LC_ALL=C.UTF-8

setup() {
	tx_setup_bpffs
	tx_setup_pair
	CFG=$BATS_TEST_TMPDIR/ranges.json
	tx_write_config "$CFG" lan=$IP4_A,$IP6_A peer=$IP4_B,$IP6_B
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG"
	assert_success
	TMUX_SOCKET=tx$(tx_random_suffix)
}

teardown() {
	tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
	tx_teardown
}

# ---- plain tables

# texporter-read --top with standard output into a file; sets TOP_PID and
# TOP_LOG. The reader needs no namespace: it reads the pins by path.
top_plain_start() {
	TOP_LOG=$BATS_TEST_TMPDIR/top.tsv
	"$BUILD/texporter-read" --pin-root "$PIN_ROOT" --top "$@" >"$TOP_LOG" 2>"$TOP_LOG.err" 3>&- &
	TOP_PID=$!
	TX_BG_PIDS+=("$TOP_PID")
}

top_tables() {
	grep -c '^# texporter-read --top: reading' "$TOP_LOG"
}

# Waits until the log holds at least N tables, each ended by its empty line.
top_wait_tables() {
	local n=$1
	tx_wait_until 15 bash -c "[[ \$(grep -c '^# texporter-read --top' '$TOP_LOG') -ge $n && \$(grep -c '^\$' '$TOP_LOG') -ge $n ]]"
}

# Sum of column COL (7 bytes, 8 packets) over the rows of state ok of KIND
# whose iface, family, src and dst are the arguments ("" for none).
top_sum() {
	local col=$1 kind=$2 iface=$3 family=$4 src=$5 dst=$6
	awk -F'\t' -v c="$col" -v k="$kind" -v i="$iface" -v f="$family" -v s="$src" -v d="$dst" '
		$1 == k && $2 == i && $3 == f && $4 == s && $5 == d && $6 == "ok" { n += $c }
		END { print n + 0 }' "$TOP_LOG"
}

@test "--interval must be seconds from 0.1 to 3600: other values are usage errors" {
	local value
	for value in 0 -1 0.05 3601 abc 1e3 inf nan 2x 1.2.3 ""; do
		run "$BUILD/texporter-read" --pin-root "$PIN_ROOT" --top --interval "$value"
		assert_failure 2
		assert_line --index 0 --regexp '^texporter-read: error: --interval: bad value ".*": use seconds'
		assert_line --index 1 "Try 'texporter-read --help' for more information."
	done
	run "$BUILD/texporter-read" --pin-root "$PIN_ROOT" --top --interval
	assert_failure 2
	assert_line --index 0 'texporter-read: error: --interval needs a value'
}

@test "--interval without --top, and --top with another mode, are usage errors" {
	run "$BUILD/texporter-read" --pin-root "$PIN_ROOT" --interval 2
	assert_failure 2
	assert_line --index 0 'texporter-read: error: --interval goes with --top'
	run "$BUILD/texporter-read" --pin-root "$PIN_ROOT" --top --textfile "$BATS_TEST_TMPDIR/x.prom"
	assert_failure 2
	assert_line --index 0 'texporter-read: error: --top excludes --inetd, --listen and --textfile'
	run "$BUILD/texporter-read" --pin-root "$PIN_ROOT" --listen :2112 --top
	assert_failure 2
	assert_line --index 0 'texporter-read: error: --top excludes --inetd, --listen and --textfile'
}

@test "--top on pins it cannot read exits 1 and names the pin root" {
	run "$BUILD/texporter-read" --pin-root "$BATS_TEST_TMPDIR/nothing" --top
	assert_failure 1
	assert_output --partial "pin root $BATS_TEST_TMPDIR/nothing does not exist"
}

@test "not a terminal: a table per interval, the first without rates, deltas add up to the bytes sent" {
	top_plain_start --interval 0.5
	top_wait_tables 1
	# The first table: every row is "first", no figure in the rate columns.
	run awk -F'\t' 'NR == 2 { print; exit }' "$TOP_LOG"
	assert_output "$(printf 'kind\tiface\tfamily\tsrc\tdst\tstate\tbytes\tpackets\tbits_per_second\tpackets_per_second')"
	run grep -c 'first reading: no rates yet' "$TOP_LOG"
	assert_output 1
	run awk -F'\t' 'NR > 2 && NF > 1 && ($6 != "first" || $7 != "" || $9 != "") { bad++ } END { print bad + 0 }' "$TOP_LOG"
	assert_output 0

	tx_sendraw_from a 4 --count 50 --l3-size 200
	tx_sendraw_from a 6 --count 30 --l3-size 300
	tx_sendraw_from b 4 --count 7 --l3-size 120
	local seen
	seen=$(top_tables)
	top_wait_tables $((seen + 2))
	kill "$TOP_PID"
	wait "$TOP_PID" || fail "texporter-read --top exited with $?"

	assert_equal "$(top_sum 7 pair "$IF_A" ipv4 lan peer)" 10000
	assert_equal "$(top_sum 8 pair "$IF_A" ipv4 lan peer)" 50
	assert_equal "$(top_sum 7 pair "$IF_A" ipv6 lan peer)" 9000
	assert_equal "$(top_sum 8 pair "$IF_A" ipv6 lan peer)" 30
	assert_equal "$(top_sum 7 pair "$IF_A" ipv4 peer lan)" 840
	assert_equal "$(top_sum 7 iface "$IF_A" ipv4 "" "")" 10840
	assert_equal "$(top_sum 7 total "" ipv6 "" "")" 9000
	assert_equal "$(top_sum 7 total "" all "" "")" 19840
	assert_equal "$(top_sum 8 total "" all "" "")" 87
	# Rates are the deltas over the interval: bytes * 8 / seconds.
	run awk -F'\t' '/^# .*s after the one before/ { split($0, w, ", "); sub(/ s after.*/, "", w[2]); t = w[2] }
		$6 == "ok" && $7 > 0 { r = $7 * 8 / t; if ($9 < r * 0.99 - 1 || $9 > r * 1.01 + 1) bad++ }
		END { print bad + 0 }' "$TOP_LOG"
	assert_output 0
}

@test "counters that go backwards (interface loaded again) show reset, never a negative or huge rate" {
	top_plain_start --interval 0.5
	top_wait_tables 1
	tx_sendraw_from a 4 --count 40 --l3-size 500
	top_wait_tables $(($(top_tables) + 2))
	assert_equal "$(top_sum 7 pair "$IF_A" ipv4 lan peer)" 20000

	# Between two readings: detached, loaded again, fewer bytes than before.
	kill -STOP "$TOP_PID"
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG"
	assert_success
	tx_sendraw_from a 4 --count 10 --l3-size 500
	local seen
	seen=$(top_tables)
	kill -CONT "$TOP_PID"
	top_wait_tables $((seen + 2))
	kill "$TOP_PID"
	wait "$TOP_PID" || true

	# The interval of the reset shows "reset" and no figures.
	run awk -F'\t' -v i="$IF_A" '$1 == "pair" && $2 == i && $3 == "ipv4" && $6 == "reset" && $7 == "" && $9 == "" { n++ } END { print n + 0 }' "$TOP_LOG"
	refute_output 0
	# Nothing negative, nothing above what 40 frames in half a second make.
	run awk -F'\t' '$6 == "ok" && ($7 < 0 || $7 > 20000 || $9 < 0 || $9 > 20000 * 8 * 4) { print }' "$TOP_LOG"
	assert_output ''
	# Counted once: the frames of the reset interval are its new base.
	assert_equal "$(top_sum 7 pair "$IF_A" ipv4 lan peer)" 20000
}

@test "a reload that cleared a pair's counters shows reset for that pair only" {
	top_plain_start --interval 0.5
	top_wait_tables 1
	tx_sendraw_from a 4 --count 40 --l3-size 500
	tx_sendraw_from a 6 --count 5 --l3-size 100
	top_wait_tables $(($(top_tables) + 2))
	assert_equal "$(top_sum 7 pair "$IF_A" ipv4 lan peer)" 20000

	# peer removed (its counters cleared) and added again, then 10 frames.
	kill -STOP "$TOP_PID"
	tx_write_config "$BATS_TEST_TMPDIR/lan.json" lan=$IP4_A,$IP6_A
	run tx_load "$NS_A" -i "$IF_A" -f "$BATS_TEST_TMPDIR/lan.json"
	assert_success
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG"
	assert_success
	tx_sendraw_from a 4 --count 10 --l3-size 500
	tx_sendraw_from a 6 --count 3 --l3-size 100
	local seen
	seen=$(top_tables)
	kill -CONT "$TOP_PID"
	top_wait_tables $((seen + 2))
	kill "$TOP_PID"
	wait "$TOP_PID" || true

	# Only what the reload cleared is reset; the interface keeps its rates.
	run awk -F'\t' '$6 == "reset" { print $1, $3, $4, $5 }' "$TOP_LOG"
	assert_output 'pair ipv4 lan peer
pair ipv6 lan peer'
	# Nothing negative, nothing above all that was sent before the reload.
	run awk -F'\t' '$6 == "ok" && ($7 < 0 || $7 > 20500) { print }' "$TOP_LOG"
	assert_output ''
	assert_equal "$(top_sum 7 pair "$IF_A" ipv4 lan peer)" 20000
}

@test "not a terminal: a reading that fails prints no table but a warning, once, and --top goes on" {
	top_plain_start --interval 0.3 -i "$IF_A"
	top_wait_tables 1
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	tx_wait_until 10 grep -q "warn: interface $IF_A is not loaded" "$TOP_LOG.err"
	# Five more failed readings: still the one warning.
	sleep 1.5
	assert_equal "$(grep -c 'warn: ' "$TOP_LOG.err")" 1
	local seen
	seen=$(top_tables)
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG"
	assert_success
	tx_sendraw_from a 4 --count 4 --l3-size 250
	top_wait_tables $((seen + 2))
	# Failing again after good readings warns again.
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	tx_wait_until 10 bash -c "[[ \$(grep -c 'warn: ' '$TOP_LOG.err') -eq 2 ]]"
	kill "$TOP_PID"
	wait "$TOP_PID" || fail "texporter-read --top exited with $?"
	run awk -F'\t' '$6 == "ok" && ($7 < 0 || $7 > 1000) { print }' "$TOP_LOG"
	assert_output ''
}

@test "not a terminal: a pipe closed by its reader ends --top with status 0" {
	run bash -c "'$BUILD/texporter-read' --pin-root '$PIN_ROOT' --top --interval 0.1 | head -c 10; echo \" status \${PIPESTATUS[0]}\""
	assert_success
	assert_output '# texporte status 0'
}

# ---- the terminal view in tmux

tmux_cmd() {
	tmux -L "$TMUX_SOCKET" -f /dev/null "$@"
}

# Starts texporter-read --top ARGS in a 100x30 tmux pane (env: TOP_ENV).
top_tmux_start() {
	tmux_cmd -u new-session -d -s top -x 100 -y 30 \
		"exec env ${TOP_ENV:-TERM=screen LC_ALL=C.UTF-8} $BUILD/texporter-read --pin-root $PIN_ROOT --top $*"
	tmux_cmd set-option -t top remain-on-exit on
	TOP_PID=$(tmux_cmd display-message -p -t top '#{pane_pid}')
}

screen() {
	tmux_cmd capture-pane -p -t top
}

screen_has() {
	screen | grep -qE -- "$1"
}

# The pair rows as "family src dst", top to bottom.
screen_pairs() {
	screen | awk '$4 == "->" { print $2, $3, $5 }' | paste -sd, -
}

screen_pairs_are() {
	[[ $(screen_pairs) == "$1" ]]
}

@test "terminal: the pairs, with no rate at first, then a rate that moves while traffic flows" {
	top_tmux_start --interval 0.5
	tx_wait_until 10 screen_has 'first reading: no rates yet'
	tx_wait_until 10 screen_has '^ *q quit'
	tx_bg "$NS_A" "$PYTHON" "$TX_TOOLS/stream.py" --iface "$IF_A" --src "$IP4_A" --dst "$IP4_B" --l3-size 1000 --rate 200
	tx_wait_until 5 grep -q '^stream: started pid' "$TX_BG_LOG"
	# 200 frames/s of 1000 bytes: 1.6 Mb/s, give or take the machine.
	tx_wait_until 10 screen_has "^$IF_A +ipv4 +lan +-> +peer +[0-9.]+ Mb/s +[0-9]+ p/s"
	kill "$(sed -n 's/^stream: started pid \([0-9]*\)$/\1/p' "$TX_BG_LOG")"
	tx_wait_until 10 screen_has "^$IF_A +ipv4 +lan +-> +peer +0 b/s +0 p/s"
	tx_wait_until 10 screen_has "^all ifaces +ipv4 +0 b/s"
}

@test "terminal: keys b, p and n sort by bits/s, packets/s and name; f and 4/6/a pick the family" {
	top_tmux_start --interval 4
	tx_wait_until 10 screen_has 'first reading: no rates yet'
	# All traffic within one interval: the reader stopped while it is sent.
	kill -STOP "$TOP_PID"
	local stopped=$SECONDS
	tx_sendraw_from a 4 --count 10 --l3-size 100
	tx_sendraw_from b 4 --count 10 --l3-size 1400
	tx_sendraw_from a 6 --count 60 --l3-size 100
	while ((SECONDS - stopped < 5)); do sleep 0.2; done
	kill -CONT "$TOP_PID"
	tx_wait_until 5 screen_pairs_are 'ipv4 peer lan,ipv6 lan peer,ipv4 lan peer'
	tmux_cmd send-keys -t top p
	tx_wait_until 2 screen_pairs_are 'ipv6 lan peer,ipv4 lan peer,ipv4 peer lan'
	tx_wait_until 2 screen_has 'sort: packets/s'
	tmux_cmd send-keys -t top n
	tx_wait_until 2 screen_pairs_are 'ipv4 lan peer,ipv4 peer lan,ipv6 lan peer'
	tmux_cmd send-keys -t top f
	tx_wait_until 2 screen_pairs_are 'ipv4 lan peer,ipv4 peer lan'
	tx_wait_until 2 screen_has 'family: ipv4'
	tmux_cmd send-keys -t top f
	tx_wait_until 2 screen_pairs_are 'ipv6 lan peer'
	tx_wait_until 2 screen_has 'family: ipv6'
	tmux_cmd send-keys -t top 4
	tx_wait_until 2 screen_pairs_are 'ipv4 lan peer,ipv4 peer lan'
	tmux_cmd send-keys -t top a b
	tx_wait_until 2 screen_has 'sort: bits/s +family: all'
}

# top_tmux_start, with the exit status of texporter-read written to
# TOP_STATUS by the bash that runs it in the pane (tmux's own
# #{pane_dead_status} is not reliable: its server sometimes leaves the
# exited process unreaped). On Ctrl-C bash waits for the child and goes
# on when the child did not die of the signal.
top_tmux_start_status() {
	TOP_STATUS=$BATS_TEST_TMPDIR/top.status
	cat >"$BATS_TEST_TMPDIR/top.sh" <<-EOF
		#!/bin/bash
		env ${TOP_ENV:-TERM=screen LC_ALL=C.UTF-8} $BUILD/texporter-read --pin-root $PIN_ROOT --top $*
		echo \$? >$TOP_STATUS.tmp && mv $TOP_STATUS.tmp $TOP_STATUS
	EOF
	chmod +x "$BATS_TEST_TMPDIR/top.sh"
	tmux_cmd -u new-session -d -s top -x 100 -y 30 "$BATS_TEST_TMPDIR/top.sh"
	tmux_cmd set-option -t top remain-on-exit on
}

# The exit status of texporter-read under top_tmux_start_status, once it
# has exited.
pane_exit_status() {
	[[ -s $TOP_STATUS ]] && cat "$TOP_STATUS"
}

@test "terminal: q quits with status 0 and gives the main screen back" {
	top_tmux_start_status --interval 0.5
	tx_wait_until 10 screen_has 'first reading'
	tmux_cmd send-keys -t top q
	tx_wait_until 5 pane_exit_status
	assert_equal "$(pane_exit_status)" 0
	# Back on the main screen: the view is not left on it.
	run screen
	refute_output --partial 'texporter  every'
}

@test "terminal: Ctrl-C quits with status 0 and gives the main screen back" {
	top_tmux_start_status --interval 0.5
	tx_wait_until 10 screen_has 'first reading'
	tmux_cmd send-keys -t top C-c
	tx_wait_until 5 pane_exit_status
	assert_equal "$(pane_exit_status)" 0
	run screen
	refute_output --partial 'texporter  every'
}

@test "terminal: Ctrl-Z in a shell gives the screen back, fg redraws the view" {
	# An interactive shell: job control needs one (without it the kernel
	# discards the stop of an orphaned process group).
	tmux_cmd -u new-session -d -s top -x 100 -y 30 "env -i TERM=screen LC_ALL=C.UTF-8 PS1='$ ' bash --norc --noprofile -i"
	tmux_cmd set-option -t top remain-on-exit on
	tmux_cmd send-keys -t top "$BUILD/texporter-read --pin-root $PIN_ROOT --top --interval 0.5" Enter
	tx_wait_until 10 screen_has '^ *q quit'
	tmux_cmd send-keys -t top C-z
	tx_wait_until 5 screen_has 'Stopped'
	run screen
	refute_output --partial 'texporter  every'
	tmux_cmd send-keys -t top fg Enter
	tx_wait_until 5 screen_has '^texporter  every 0.5 s'
	tmux_cmd send-keys -t top q
	tmux_cmd send-keys -t top 'echo status $?' Enter
	tx_wait_until 5 screen_has '^status 0$'
}

@test "terminal: a resize redraws at the new width, no line wider" {
	tx_write_config "$CFG" "lan=$IP4_A,$IP6_A" "a-range-name-of-forty-characters-long-xx=$IP4_B,$IP6_B"
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG"
	assert_success
	tx_sendraw_from a 4 --count 3
	top_tmux_start --interval 0.5
	# 100 columns leave 28 for a name: cut, with a mark that says so.
	tx_wait_until 10 screen_has "^$IF_A +ipv4 +lan +-> +a-range-name-of-forty-chara… "
	tmux_cmd resize-window -t top -x 60 -y 20
	tx_wait_until 5 screen_has "^$IF_A +ipv4 +lan +-> +a-range…"
	local line
	while IFS= read -r line; do
		line=${line%"${line##*[! ]}"}
		((${#line} <= 60)) || fail "wider than 60 columns: $line"
	done < <(screen)
}

@test "terminal: a reading that fails shows why on the status line, not as a message across the view" {
	top_tmux_start --interval 0.3 -i "$IF_A"
	tx_wait_until 10 screen_has '^ *q quit'
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	tx_wait_until 10 screen_has "^reading failed, showing the last good one: interface $IF_A is not loaded"
	run screen
	refute_output --partial 'warn:'
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG"
	assert_success
	tx_wait_until 10 screen_has '^ *q quit'
}

@test "terminal: TERM=dumb gets the plain tables; a non-UTF-8 locale shows names in ASCII" {
	tx_write_config "$CFG" "café=$IP4_A,$IP6_A" "peer=$IP4_B,$IP6_B"
	run tx_load "$NS_A" -i "$IF_A" -f "$CFG"
	assert_success
	tx_sendraw_from a 4 --count 3
	TOP_ENV="TERM=screen LC_ALL=C" top_tmux_start --interval 0.5
	tx_wait_until 10 screen_has "^$IF_A +ipv4 +caf\? +-> +peer"
	# Renamed, not killed: the server stays up for the next session.
	tmux_cmd rename-session -t top ascii
	TOP_ENV="TERM=screen LC_ALL=C.UTF-8" top_tmux_start --interval 0.5
	tx_wait_until 10 screen_has "^$IF_A +ipv4 +café +-> +peer"
	tmux_cmd rename-session -t top utf8
	TOP_ENV="TERM=dumb" top_tmux_start --interval 0.5
	tx_wait_until 10 screen_has '^# texporter-read --top: reading 1 at [0-9.]+, first reading: no rates yet'
	tx_wait_until 10 screen_has '^kind +iface +family +src +dst +state'
}
