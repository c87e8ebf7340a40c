#!/usr/bin/env bats
# Reloading the ranges of a live interface: not a single count lost, no
# series going backwards, names keeping or losing their counts exactly as
# documented, bad reloads changing nothing, growing maps carrying counts.
#
# texporter runs on IF_A in NS_A. Frames come from sendraw.py/stream.py:
# sent from NS_B they cross IF_A's ingress (XDP or TC), sent from NS_A its
# egress (TC). Their destination MAC belongs to nobody, so nothing answers
# and the only packets on the pair are the test's own: IF_A's rx+tx
# counters are the ground truth. Every frame is 100 L3 bytes.

load helpers

L3=100

# The binaries as they were when this file started: a rebuild running
# meanwhile must not swap them under a test.
setup_file() {
	mkdir -p "$BATS_FILE_TMPDIR/bin"
	cp "$BUILD/texporter-load" "$BUILD/texporter-read" "$BATS_FILE_TMPDIR/bin/"
}

setup() {
	BUILD=$BATS_FILE_TMPDIR/bin
	tx_setup_bpffs
	tx_setup_pair
	CFG=$BATS_TEST_TMPDIR
}

teardown() {
	tx_teardown
}

# --- helpers ------------------------------------------------------------------

load_a() {
	tx_load "$NS_A" -i "$IF_A" "$@"
}

# Write config $CFG/NAME.json from "RANGE=CIDR,..." arguments.
config() {
	local name=$1
	shift
	tx_write_config "$CFG/$name.json" "$@"
}

# COUNT frames into IF_A (ingress) / out of IF_A (egress): SRC DST. SENT
# adds them up.
SENT=0
send_in() {
	SENT=$((SENT + $1))
	tx_sendraw "$NS_B" --iface "$IF_B" --count "$1" --src "$2" --dst "$3" --l3-size "$L3" >/dev/null
}
send_out() {
	SENT=$((SENT + $1))
	tx_sendraw "$NS_A" --iface "$IF_A" --count "$1" --src "$2" --dst "$3" --l3-size "$L3" >/dev/null
}

# Frames that crossed IF_A, both directions: what texporter must count.
crossed() {
	echo $(($(tx_link_stat "$NS_A" "$IF_A" rx_packets) + $(tx_link_stat "$NS_A" "$IF_A" tx_packets)))
}

# The captured series of IF_A in reader output (stdin) as sorted lines
# "FAMILY SRC DST PACKETS BYTES".
traffic_of() {
	awk -v iface="$IF_A" '
		/^texporter_captured_(packets|bytes)_total\{/ {
			if (index($0, "{iface=\"" iface "\",") == 0) next
			kind = ($0 ~ /^texporter_captured_packets/) ? "p" : "b"
			match($0, /family="[^"]*"/); fam = substr($0, RSTART + 8, RLENGTH - 9)
			match($0, /,src="[^"]*"/); src = substr($0, RSTART + 6, RLENGTH - 7)
			match($0, /,dst="[^"]*"/); dst = substr($0, RSTART + 6, RLENGTH - 7)
			key = fam " " src " " dst
			keys[key] = 1
			val[key, kind] = $NF
		}
		END {
			for (k in keys)
				print k, ((k, "p") in val ? val[k, "p"] : "-"), ((k, "b") in val ? val[k, "b"] : "-")
		}' | LC_ALL=C sort
}

traffic() {
	tx_read "$NS_A" | traffic_of
}

# Packets counted over all series of IF_A (FAMILY, or both).
counted() {
	traffic | awk -v fam="${1:-}" 'fam == "" || $1 == fam { n += $4 } END { print n + 0 }'
}

counted_is() {
	[[ $(counted "${2:-}") == "$1" ]]
}

# Wait (bounded) until every frame the test sent has crossed IF_A.
settle() {
	tx_wait_until 10 crossed_is "$SENT" || fail "sent $SENT frames, $(crossed) crossed $IF_A"
}

crossed_is() {
	[[ $(crossed) == "$1" ]]
}

# Assert the whole captured table of IF_A: arguments "FAMILY SRC DST PACKETS",
# bytes being PACKETS x L3. Nothing else may be there; a series of 0
# packets must be absent (the reader exports none). Frames still in a
# queue get a bounded moment to be counted.
assert_traffic() {
	local line want=""
	for line in "$@"; do
		[[ ${line##* } == 0 ]] || want+="$line $((${line##* } * L3))"$'\n'
	done
	want=$(LC_ALL=C sort <<<"${want%$'\n'}")
	tx_wait_until 10 traffic_is "$want" || true
	assert_equal "$(traffic)" "$want"
}

traffic_is() {
	[[ $(traffic) == "$1" ]]
}

# Reader output without the one line that differs on every scrape.
scrape() {
	tx_read "$NS_A" | grep -v '^texporter_scrape_duration_seconds'
}

# Link id and program id of the pinned link of DIRECTION (ingress/egress).
link_ids() {
	bpftool -j link show pinned "$PIN_ROOT/$IF_A/link_$1" |
		"$PYTHON" -c 'import json, sys; l = json.load(sys.stdin); print(l["id"], l["prog_id"])'
}

# Everything of IF_A's running state that a failed reload must not change:
# the reader's view, the pins (inode, mode, owner), the kernel objects
# behind them, and what is attached to the device.
state_snapshot() {
	local pin
	scrape
	(cd "$PIN_ROOT/$IF_A" && ls -lin --time-style=+ .)
	for pin in "$PIN_ROOT/$IF_A"/*; do
		case ${pin##*/} in
		link_*) echo "${pin##*/}: $(bpftool -j link show pinned "$pin")" ;;
		*) echo "${pin##*/}: $(bpftool -j map show pinned "$pin")" ;;
		esac
	done
	bpftool -j map dump pinned "$PIN_ROOT/$IF_A/meta"
	bpftool -j map dump pinned "$PIN_ROOT/$IF_A/names" | "$PYTHON" -c '
import json, sys
for e in json.load(sys.stdin):
    if any(b != "0x00" for b in e["value"]):
        print(e["key"], e["value"])'
	if [[ -e /run/netns/$NS_A ]] && tx_in "$NS_A" ip link show dev "$IF_A" >/dev/null 2>&1; then
		tx_in "$NS_A" bpftool -j net show dev "$IF_A"
		tx_in "$NS_A" tc filter show dev "$IF_A" ingress
		tx_in "$NS_A" tc filter show dev "$IF_A" egress
	fi
}

# Stream STREAM_ARGS... from namespace NS on its interface; sets STREAM_PID
# (the sender's) and STREAM_LOG once it is sending.
stream_start() {
	local ns=$1 iface=$2
	shift 2
	tx_bg "$ns" "$PYTHON" "$TX_TOOLS/stream.py" --iface "$iface" --l3-size "$L3" "$@"
	STREAM_LOG=$TX_BG_LOG
	tx_wait_until 5 grep -q "^stream: started pid" "$STREAM_LOG" || return
	STREAM_PID=$(sed -n 's/^stream: started pid \([0-9]*\)$/\1/p' "$STREAM_LOG")
}

# Stop the stream of PID, LOG; prints the frames it sent.
stream_stop() {
	local pid=$1 log=$2
	kill -TERM "$pid"
	tx_wait_until 10 grep -q "^stream: sent" "$log" || { cat "$log" >&2; return 1; }
	grep -q "^stream: send failed" "$log" && { cat "$log" >&2; return 1; }
	sed -n 's/^stream: sent \([0-9]*\) frames.*/\1/p' "$log"
}

# Each series of OLD (traffic lines) is in NEW with no smaller packets or
# bytes; prints the offenders.
decreased() {
	awk 'NR == FNR { p[$1 " " $2 " " $3] = $4; b[$1 " " $2 " " $3] = $5; next }
		{ k = $1 " " $2 " " $3; np[k] = $4; nb[k] = $5 }
		END {
			for (k in p)
				if (!(k in np) || np[k] + 0 < p[k] + 0 || nb[k] + 0 < b[k] + 0)
					print "series " k ": was " p[k] " packets " b[k] " bytes, now " \
						((k in np) ? np[k] " packets " nb[k] " bytes" : "absent")
		}' "$1" "$2"
}

# Scrape IF_A in the background, one texporter-read after another, until
# scraper_stop: scrape N's output in $SCRAPES/N (zero-padded), any failure
# or message of the reader in $SCRAPES/failed.
scraper_start() {
	SCRAPES=$BATS_TEST_TMPDIR/scrapes
	mkdir -p "$SCRAPES"
	tx_bg "$NS_A" bash -c '
		dir=$1 i=0
		shift
		while [[ ! -e $dir/stop ]]; do
			i=$((i + 1))
			"$@" >"$dir/raw" 2>"$dir/err" || echo "scrape $i: exit status $?" >>"$dir/failed"
			[[ -s $dir/err ]] && echo "scrape $i: $(cat "$dir/err")" >>"$dir/failed"
			mv "$dir/raw" "$dir/$(printf %06d "$i")"
			sleep 0.01
		done' scraper "$SCRAPES" "$BUILD/texporter-read" --pin-root "$PIN_ROOT" -i "$IF_A"
	SCRAPER_PID=$TX_BG_PID
}

# Stop the scraper; fails when a scrape failed or one of its series went
# down from one scrape to the next. Prints the number of scrapes.
scraper_stop() {
	local f prev="" bad n=0
	touch "$SCRAPES/stop"
	wait "$SCRAPER_PID"
	if [[ -e $SCRAPES/failed ]]; then
		echo "the reader failed while scraping concurrently:" >&2
		head -20 "$SCRAPES/failed" >&2
		return 1
	fi
	for f in "$SCRAPES"/[0-9]*; do
		n=$((n + 1))
		traffic_of <"$f" >"$f.t"
		if [[ -n $prev ]]; then
			bad=$(decreased "$prev" "$f.t")
			if [[ -n $bad ]]; then
				echo "concurrent scrape ${f##*/} after ${prev##*/}: $bad" >&2
				return 1
			fi
		fi
		prev=$f.t
	done
	echo "$n"
}

# --- continuous traffic -------------------------------------------------------

@test "fifty reloads moving a prefix between two names under steady traffic lose no packet and no series ever goes down" {
	config red-blue peer=10.91.0.2,fd00:91::2 \
		red=198.51.100.0/24,2001:db8:1::/48 blue=203.0.113.0/24,2001:db8:2::/48
	config blue-red peer=10.91.0.2,fd00:91::2 \
		red=203.0.113.0/24,2001:db8:2::/48 blue=198.51.100.0/24,2001:db8:1::/48
	run load_a -f "$CFG/red-blue.json"
	assert_success

	# IPv4 into IF_A (XDP), IPv6 out of it (TC), both to both prefixes.
	stream_start "$NS_B" "$IF_B" --rate 400 --src "$IP4_B" --dst 198.51.100.7 --dst 203.0.113.9
	local in_pid=$STREAM_PID in_log=$STREAM_LOG
	stream_start "$NS_A" "$IF_A" --rate 400 --src "$IP6_A" --dst 2001:db8:1::7 --dst 2001:db8:2::9
	local out_pid=$STREAM_PID out_log=$STREAM_LOG

	local i prev=$BATS_TEST_TMPDIR/prev cur=$BATS_TEST_TMPDIR/cur bad scrapes
	scraper_start
	traffic >"$prev"
	for i in $(seq 1 50); do
		if ((i % 2)); then
			run load_a -f "$CFG/blue-red.json"
		else
			run load_a -f "$CFG/red-blue.json"
		fi
		assert_success
		assert_output --partial "$IF_A: reloaded:"
		traffic >"$cur"
		bad=$(decreased "$prev" "$cur")
		[[ -z $bad ]] || fail "after reload $i: $bad"
		mv "$cur" "$prev"
	done

	# Scrapes taken while the loader worked never saw a series go down either.
	scrapes=$(scraper_stop)
	((scrapes > 50))

	local sent_in sent_out
	sent_in=$(stream_stop "$in_pid" "$in_log")
	sent_out=$(stream_stop "$out_pid" "$out_log")
	((sent_in > 100 && sent_out > 100)) # traffic flowed all along

	# Ground truth twice: what the senders sent, and what crossed IF_A.
	SENT=$((sent_in + sent_out))
	settle
	assert_equal "$(tx_link_stat "$NS_A" "$IF_A" rx_packets)" "$sent_in"
	assert_equal "$(tx_link_stat "$NS_A" "$IF_A" tx_packets)" "$sent_out"
	tx_wait_until 10 counted_is "$SENT" || true
	assert_equal "$(counted ipv4)" "$sent_in"
	assert_equal "$(counted ipv6)" "$sent_out"
	run tx_read "$NS_A"
	assert_equal "$(traffic_of <<<"$output" | awk '$1 == "ipv4" { n += $5 } END { print n }')" $((sent_in * L3))
	assert_equal "$(traffic_of <<<"$output" | awk '$1 == "ipv6" { n += $5 } END { print n }')" $((sent_out * L3))
	assert_equal "$(tx_metric texporter_reloads_total "iface=\"$IF_A\"")" 50
	# Every counted packet is under one of the two names (or the source side).
	refute_output --regexp 'texporter_captured_packets_total\{[^}]*dst="other"'

	traffic >"$cur"
	bad=$(decreased "$prev" "$cur")
	[[ -z $bad ]] || fail "after the streams stopped: $bad"
}

# --- names kept, renamed, added, removed ---------------------------------------

@test "a renamed range starts from zero under its new name, kept ranges keep their counts, removed names never come back with old counts" {
	local home=$IP4_B keep=198.51.100.1 old=203.0.113.1 gone=192.0.2.1

	config v1 home=10.91.0.0/24 keep=198.51.100.0/24 old=203.0.113.0/24 gone=192.0.2.0/24
	run load_a -f "$CFG/v1.json"
	assert_success
	send_in 3 "$home" "$keep"
	send_in 4 "$home" "$old"
	send_in 5 "$home" "$gone"
	send_out 6 "$gone" "$keep"
	send_out 7 "$old" "$gone"
	settle
	assert_traffic "ipv4 home keep 3" "ipv4 home old 4" "ipv4 home gone 5" \
		"ipv4 gone keep 6" "ipv4 old gone 7"

	# old -> renamed (same prefix), gone removed, added new.
	config v2 home=10.91.0.0/24 keep=198.51.100.0/24 renamed=203.0.113.0/24 added=100.64.0.0/24
	run load_a -f "$CFG/v2.json"
	assert_success
	assert_output --partial "$IF_A: reloaded:"
	assert_traffic "ipv4 home keep 3"

	send_in 2 "$home" "$keep"
	send_in 2 "$home" "$old"
	send_in 2 "$home" 100.64.0.1
	send_in 2 "$home" "$gone"
	send_out 2 "$gone" "$keep"
	settle
	assert_traffic "ipv4 home keep 5" "ipv4 home renamed 2" "ipv4 home added 2" \
		"ipv4 home other 2" "ipv4 other keep 2"

	# Both removed names come back (old on another prefix), and one more
	# name: the ids they get held counts of old and gone before.
	config v3 home=10.91.0.0/24 keep=198.51.100.0/24 renamed=203.0.113.0/24 added=100.64.0.0/24 \
		gone=192.0.2.0/24 old=203.0.114.0/24 late=100.64.1.0/24
	run load_a -f "$CFG/v3.json"
	assert_success
	assert_traffic "ipv4 home keep 5" "ipv4 home renamed 2" "ipv4 home added 2" \
		"ipv4 home other 2" "ipv4 other keep 2"

	send_in 1 "$home" "$gone"
	send_in 1 "$home" 203.0.114.1
	send_in 1 "$home" 100.64.1.1
	send_out 1 "$gone" 203.0.114.1
	settle
	assert_traffic "ipv4 home keep 5" "ipv4 home renamed 2" "ipv4 home added 2" \
		"ipv4 home other 2" "ipv4 other keep 2" \
		"ipv4 home gone 1" "ipv4 home old 1" "ipv4 home late 1" "ipv4 gone old 1"
}

# --- bad reloads ----------------------------------------------------------------

@test "a reload with a bad config exits 2, says why, and leaves the running state byte for byte as it was" {
	config good home=10.91.0.0/24,fd00:91::/64 keep=198.51.100.0/24
	run load_a -f "$CFG/good.json"
	assert_success
	send_in 3 "$IP4_B" 198.51.100.1
	send_out 2 "$IP6_A" 2001:db8::1
	settle
	assert_traffic "ipv4 home keep 3" "ipv6 home other 2"

	local before after data=$TX_REPO/tests/data/config
	before=$(state_snapshot)

	run load_a -f "$data/syntax.json"
	assert_equal "$status" 2
	assert_output --partial "$data/syntax.json:6:3: invalid JSON"

	run load_a -f "$data/dup-name.json"
	assert_equal "$status" 2
	assert_output --partial "$data/dup-name.json: range #3: name \"zoom\" is already used by range #1"

	run load_a -f "$data/bad-cidr.json"
	assert_equal "$status" 2
	assert_output --partial "$data/bad-cidr.json: range \"bad\": ipv4[7] \"300.1.1.1\" is not a valid IPv4 address or prefix"

	run load_a -f "$data/same-prefix-two-names.json"
	assert_equal "$status" 2
	assert_output --partial "prefix 10.0.0.0/8 is in range \"corp\" (ipv4[0]) and in range \"lab\" (ipv4[0])"

	run load_a -f "$data/empty.json"
	assert_equal "$status" 2
	assert_output --partial "$data/empty.json: is empty"

	run load_a -f "$CFG/no-such-file.json"
	assert_equal "$status" 2
	assert_output --partial "$CFG/no-such-file.json: cannot open: No such file or directory"

	run load_a -f "$CFG/good.json" --group no-such-group-tx
	assert_equal "$status" 2
	assert_output --partial 'group "no-such-group-tx" is not in /etc/group'

	config unmatched-name home=10.91.0.0/24 other=198.51.100.0/24
	run load_a -f "$CFG/unmatched-name.json"
	assert_equal "$status" 2
	assert_output --partial "range \"other\" has the name of the unmatched range"

	after=$(state_snapshot)
	assert_equal "$after" "$before"

	# Still counting as before.
	send_in 1 "$IP4_B" 198.51.100.1
	settle
	assert_traffic "ipv4 home keep 4" "ipv6 home other 2"
}

@test "reloading the same file changes nothing: same links, same programs, same counts, says unchanged" {
	config good home=10.91.0.0/24 keep=198.51.100.0/24
	run load_a -f "$CFG/good.json"
	assert_success
	send_in 3 "$IP4_B" 198.51.100.1
	settle

	local ingress egress before
	ingress=$(link_ids ingress)
	egress=$(link_ids egress)
	before=$(state_snapshot)

	run load_a -f "$CFG/good.json"
	assert_success
	assert_output "$IF_A: unchanged: ingress xdp (native), egress tc (tcx); 2 IPv4 + 0 IPv6 prefixes in 2 ranges; $(tx_default_dataplane)"
	assert_equal "$(link_ids ingress)" "$ingress"
	assert_equal "$(link_ids egress)" "$egress"
	assert_equal "$(state_snapshot)" "$before"
	run tx_read "$NS_A"
	assert_equal "$(tx_metric texporter_reloads_total "iface=\"$IF_A\"")" 0
}

@test "changing --ingress, --xdp-mode or --tc-mode on reload re-attaches and keeps every count" {
	config good home=10.91.0.0/24,fd00:91::/64 keep=198.51.100.0/24,2001:db8::/64
	run load_a -f "$CFG/good.json"
	assert_success
	assert_output --partial "ingress xdp (native), egress tc (tcx)"

	local step in=0 out=0 args
	# Each step: options, then what it must say it attached.
	for step in \
		"|ingress xdp (native), egress tc (tcx)" \
		"--ingress tc|ingress tc (tcx), egress tc (tcx)" \
		"--xdp-mode generic|ingress xdp (generic), egress tc (tcx)" \
		"--xdp-mode generic --tc-mode legacy|ingress xdp (generic), egress tc (legacy clsact)" \
		"--ingress tc --tc-mode legacy|ingress tc (legacy clsact), egress tc (legacy clsact)" \
		"--ingress tc --tc-mode tcx|ingress tc (tcx), egress tc (tcx)" \
		"--xdp-mode native|ingress xdp (native), egress tc (tcx)"; do
		read -ra args <<<"${step%%|*}"
		run load_a -f "$CFG/good.json" "${args[@]}"
		assert_success
		assert_output --partial "${step#*|}"
		# Counts before the switch are kept exactly...
		assert_traffic "ipv4 home keep $in" "ipv6 home keep $out"
		# ...and new traffic is counted once, in each direction.
		send_in 3 "$IP4_B" 198.51.100.1
		send_out 2 "$IP6_A" 2001:db8::1
		in=$((in + 3)) out=$((out + 2))
		settle
		assert_traffic "ipv4 home keep $in" "ipv6 home keep $out"
	done
	run tx_read "$NS_A"
	assert_line "texporter_attach_info{iface=\"$IF_A\",direction=\"egress\",hook=\"tc\",mode=\"tcx\"} 1"
	assert_line "texporter_attach_info{iface=\"$IF_A\",direction=\"ingress\",hook=\"xdp\",mode=\"native\"} 1"
	# Nothing left over from the earlier attachments.
	run tx_in "$NS_A" tc filter show dev "$IF_A" ingress
	assert_output ""
	run tx_in "$NS_A" tc filter show dev "$IF_A" egress
	assert_output ""
}

# --- concurrent loaders ---------------------------------------------------------

@test "two loaders started at once on one interface both succeed and leave one of the two configs, with exact counts" {
	config one home=10.91.0.0/24 keep=198.51.100.0/24 one=203.0.113.0/24
	config two home=10.91.0.0/24 keep=198.51.100.0/24 two=192.0.2.0/24

	local round p1 p2 l1 l2 keep=0 other=0 winner waited
	for round in 1 2 3 4; do
		# Round 1 races on a fresh interface, the others on a loaded one.
		tx_bg "$NS_A" "$BUILD/texporter-load" --pin-root "$PIN_ROOT" -i "$IF_A" -f "$CFG/one.json"
		p1=$TX_BG_PID l1=$TX_BG_LOG
		tx_bg "$NS_A" "$BUILD/texporter-load" --pin-root "$PIN_ROOT" -i "$IF_A" -f "$CFG/two.json"
		p2=$TX_BG_PID l2=$TX_BG_LOG
		wait "$p1" || fail "loader one failed in round $round: $(cat "$l1")"
		wait "$p2" || fail "loader two failed in round $round: $(cat "$l2")"

		# The loaders ran one after the other. The last one's name is
		# new in this round: either the first loader removed it, or the
		# first found its own config loaded already ("unchanged") and
		# the last added its name. The first one's name, if it was
		# added, is gone again. So neither name has a count.
		assert_traffic "ipv4 home keep $keep" "ipv4 home other $other"

		# One frame to each config's own prefix: the last config's
		# name gets it, the other prefix matches nothing.
		send_in 1 "$IP4_B" 198.51.100.1
		send_in 1 "$IP4_B" 203.0.113.1
		send_in 1 "$IP4_B" 192.0.2.1
		keep=$((keep + 1)) other=$((other + 1))
		settle
		if traffic | grep -q '^ipv4 home one '; then winner=one; else winner=two; fi
		assert_traffic "ipv4 home keep $keep" "ipv4 home other $other" "ipv4 home $winner 1"

		# The state is exactly the winner's config.
		run load_a --status
		assert_success
		assert_output --partial "ranges: 4 of 16 ids"
		run load_a -f "$CFG/$winner.json"
		assert_success
		assert_output --partial "$IF_A: unchanged:"
		# A loader that had to wait for the lock ran last.
		waited=$(grep -l "waiting for it" "$l1" "$l2" || true)
		if [[ $waited == "$l1" ]]; then assert_equal "$winner" one; fi
		if [[ $waited == "$l2" ]]; then assert_equal "$winner" two; fi
	done
}

# --- growing the maps ---------------------------------------------------------

# $CFG/NAME.json with the ranges home (10.91.0.0/24) and keep
# (198.51.100.0/24), the ranges "RANGE=CIDR" given, then N generated names
# r001... with one /24 each: rI has 100.(64 + I / 256).(I % 256).0/24.
#   many_names NAME N [RANGE=CIDR]...
many_names() {
	local name=$1 n=$2
	shift 2
	"$PYTHON" - "$CFG/$name.json" "$n" "$@" <<-'EOF'
		import json, sys
		path, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
		ranges = [{"name": "home", "ipv4": ["10.91.0.0/24"]},
		          {"name": "keep", "ipv4": ["198.51.100.0/24"]}]
		ranges += [{"name": e.split("=")[0], "ipv4": [e.split("=")[1]]} for e in extra]
		for i in range(1, n + 1):
		    ranges.append({"name": f"r{i:03d}", "ipv4": [f"100.{64 + i // 256}.{i % 256}.0/24"]})
		json.dump(ranges, open(path, "w"), indent=1)
	EOF
}

@test "growing from 10 prefixes to 200,000 and back keeps every count and classifies the new prefixes" {
	config small home=10.91.0.0/24 keep=198.51.100.0/24 a=203.0.113.0/24 b=192.0.2.0/24 \
		c=100.63.0.0/16 d=172.16.0.0/12 e=198.18.0.0/15 f=192.0.0.0/29 g=240.0.0.0/8 h=233.252.0.0/24
	# The same ten, and 200,000 more under g0..g9: prefix i starts at
	# 100.64.0.0 + 16 i, a /28 when i is even, a /30 when odd (the rest
	# of its 16 addresses match nothing).
	"$PYTHON" - "$CFG/small.json" "$CFG/big.json" <<-'EOF'
		import ipaddress, json, sys
		ranges = json.load(open(sys.argv[1]))
		base = int(ipaddress.IPv4Address("100.64.0.0"))
		gen = [{"name": f"g{k}", "ipv4": []} for k in range(10)]
		for i in range(200000):
		    gen[i % 10]["ipv4"].append(f"{ipaddress.IPv4Address(base + 16 * i)}/{28 if i % 2 == 0 else 30}")
		json.dump(ranges + gen, open(sys.argv[2], "w"))
	EOF
	run load_a -f "$CFG/small.json"
	assert_success
	assert_output --partial "10 IPv4 + 0 IPv6 prefixes in 10 ranges"
	send_in 3 "$IP4_B" 198.51.100.1
	send_in 2 "$IP4_B" 100.64.0.1
	settle
	assert_traffic "ipv4 home keep 3" "ipv4 home other 2"

	run load_a -f "$CFG/big.json"
	assert_success
	assert_output --partial "200010 IPv4 + 0 IPv6 prefixes in 20 ranges"
	assert_traffic "ipv4 home keep 3" "ipv4 home other 2"
	# i = 123457 (odd, /30): 100.64.0.0 + 1975312 = 100.94.36.16/30 in g7;
	# i = 199998 (even, /28): 100.64.0.0 + 3199968 = 100.112.211.224/28 in g8.
	send_in 1 "$IP4_B" 198.51.100.1
	send_in 4 "$IP4_B" 100.94.36.18  # inside the /30: g7
	send_in 5 "$IP4_B" 100.94.36.25  # past the /30: other
	send_in 6 "$IP4_B" 100.112.211.239 # last address of the /28: g8
	send_in 7 "$IP4_B" 100.64.0.1    # prefix 0: g0
	settle
	assert_traffic "ipv4 home keep 4" "ipv4 home other 7" "ipv4 home g7 4" "ipv4 home g8 6" \
		"ipv4 home g0 7"
	run tx_read "$NS_A"
	assert_line "texporter_prefixes{iface=\"$IF_A\",family=\"ipv4\"} 200010"

	run load_a -f "$CFG/small.json"
	assert_success
	assert_output --partial "10 IPv4 + 0 IPv6 prefixes in 10 ranges"
	assert_traffic "ipv4 home keep 4" "ipv4 home other 7"
	send_in 1 "$IP4_B" 198.51.100.1
	send_in 1 "$IP4_B" 100.94.36.18
	settle
	assert_traffic "ipv4 home keep 5" "ipv4 home other 8"
}

@test "growing from 3 names to 40 and then 100 (counter map 16 to 64 to 128 ids) keeps every count and counts new traffic" {
	config three home=10.91.0.0/24 keep=198.51.100.0/24 gone=192.0.2.0/24
	run load_a -f "$CFG/three.json"
	assert_success
	send_in 3 "$IP4_B" 198.51.100.1
	send_in 4 "$IP4_B" 192.0.2.1
	send_out 2 192.0.2.9 198.51.100.9
	send_out 5 "$IP6_A" 2001:db8::1
	settle
	local before=("ipv4 home keep 3" "ipv4 home gone 4" "ipv4 gone keep 2" "ipv6 other other 5")
	assert_traffic "${before[@]}"
	run load_a --status
	assert_output --partial "ranges: 4 of 16 ids"
	assert_output --regexp "counters: 512 slots per CPU, [0-9]+ held; 0 pairs counted in the shared map; [0-9.]+ KiB"

	many_names forty 37 gone=192.0.2.0/24
	run load_a -f "$CFG/forty.json"
	assert_success
	assert_output --partial "in 40 ranges"
	assert_traffic "${before[@]}"
	run load_a --status
	assert_output --partial "ranges: 41 of 64 ids"
	assert_output --regexp "counters: 8192 slots per CPU, [0-9]+ held; 0 pairs counted in the shared map; plus carried totals;"

	# New traffic, to an old name and to a new id above the old capacity.
	send_in 1 "$IP4_B" 198.51.100.1
	send_in 2 "$IP4_B" 100.64.37.1 # r037
	send_out 1 192.0.2.9 100.64.37.9
	settle
	local after=("ipv4 home keep 4" "ipv4 home gone 4" "ipv4 gone keep 2" "ipv6 other other 5"
		"ipv4 home r037 2" "ipv4 gone r037 1")
	assert_traffic "${after[@]}"

	# A reload that does not grow keeps the carried counts...
	many_names forty-moved 37 gone=192.0.2.0/25
	run load_a -f "$CFG/forty-moved.json"
	assert_success
	assert_traffic "${after[@]}"

	# ...and growing again carries the carried counts along.
	many_names hundred 97 gone=192.0.2.0/24
	run load_a -f "$CFG/hundred.json"
	assert_success
	assert_output --partial "in 100 ranges"
	assert_traffic "${after[@]}"
	run load_a --status
	assert_output --partial "ranges: 101 of 128 ids"
	assert_output --regexp "counters: 32768 slots per CPU, [0-9]+ held; 0 pairs counted in the shared map; plus carried totals;"
	send_in 1 "$IP4_B" 100.64.97.1 # r097, id 99
	send_in 1 "$IP4_B" 192.0.2.1
	settle
	assert_traffic "ipv4 home keep 4" "ipv4 home gone 5" "ipv4 gone keep 2" "ipv6 other other 5" \
		"ipv4 home r037 2" "ipv4 gone r037 1" "ipv4 home r097 1"
}

@test "after the counter map grew, a new name that takes a removed name's id starts from zero" {
	config three home=10.91.0.0/24 keep=198.51.100.0/24 gone=192.0.2.0/24
	run load_a -f "$CFG/three.json"
	assert_success
	send_in 4 "$IP4_B" 192.0.2.1
	send_out 2 192.0.2.9 198.51.100.9
	settle
	assert_traffic "ipv4 home gone 4" "ipv4 gone keep 2"

	many_names forty 37 gone=192.0.2.0/24 # grows: gone's counts are now carried
	run load_a -f "$CFG/forty.json"
	assert_success
	assert_traffic "ipv4 home gone 4" "ipv4 gone keep 2"

	many_names forty-less 37 # gone removed
	run load_a -f "$CFG/forty-less.json"
	assert_success
	assert_traffic

	many_names forty-late 37 late=203.0.113.0/24 # late takes gone's id
	run load_a -f "$CFG/forty-late.json"
	assert_success
	assert_traffic
	send_in 1 "$IP4_B" 203.0.113.1
	settle
	assert_traffic "ipv4 home late 1"
}

@test "a name that takes a removed name's id in the same reload that grows the counter map starts from zero" {
	config three home=10.91.0.0/24 keep=198.51.100.0/24 gone=192.0.2.0/24
	run load_a -f "$CFG/three.json"
	assert_success
	send_in 4 "$IP4_B" 192.0.2.1
	send_out 2 192.0.2.9 198.51.100.9
	settle
	assert_traffic "ipv4 home gone 4" "ipv4 gone keep 2"

	config two home=10.91.0.0/24 keep=198.51.100.0/24 # gone removed, its id free
	run load_a -f "$CFG/two.json"
	assert_success
	assert_traffic

	many_names forty-late 37 late=203.0.113.0/24 # late takes gone's id, and the map grows
	run load_a -f "$CFG/forty-late.json"
	assert_success
	assert_traffic
	send_in 1 "$IP4_B" 203.0.113.1
	settle
	assert_traffic "ipv4 home late 1"
}

@test "growing the names from 3 to 300 while traffic flows loses no packet and no series goes down" {
	config three home=10.91.0.0/24 keep=198.51.100.0/24 gone=192.0.2.0/24
	run load_a -f "$CFG/three.json"
	assert_success
	stream_start "$NS_B" "$IF_B" --rate 400 --src "$IP4_B" --dst 198.51.100.7 --dst 192.0.2.7 --dst 100.64.37.7
	local in_pid=$STREAM_PID in_log=$STREAM_LOG
	stream_start "$NS_A" "$IF_A" --rate 400 --src 192.0.2.9 --dst 198.51.100.9 --dst 100.65.9.9
	local out_pid=$STREAM_PID out_log=$STREAM_LOG

	local n prev=$BATS_TEST_TMPDIR/prev cur=$BATS_TEST_TMPDIR/cur bad scrapes
	tx_wait_until 5 test "$(crossed)" -ge 40
	scraper_start
	traffic >"$prev"
	for n in 37 60 97 150 297; do
		many_names "n$n" "$n" gone=192.0.2.0/24
		run load_a -f "$CFG/n$n.json"
		assert_success
		assert_output --partial "in $((n + 3)) ranges"
		traffic >"$cur"
		bad=$(decreased "$prev" "$cur")
		[[ -z $bad ]] || fail "after growing to $((n + 3)) names: $bad"
		mv "$cur" "$prev"
	done
	scrapes=$(scraper_stop)
	((scrapes > 5))
	run load_a --status
	assert_output --partial "ranges: 301 of 512 ids"

	local sent_in sent_out
	sent_in=$(stream_stop "$in_pid" "$in_log")
	sent_out=$(stream_stop "$out_pid" "$out_log")
	((sent_in > 100 && sent_out > 100))
	SENT=$((sent_in + sent_out))
	settle
	assert_equal "$(tx_link_stat "$NS_A" "$IF_A" rx_packets)" "$sent_in"
	assert_equal "$(tx_link_stat "$NS_A" "$IF_A" tx_packets)" "$sent_out"
	tx_wait_until 10 counted_is "$SENT" || true
	assert_equal "$(counted ipv4)" "$SENT"
	traffic >"$cur"
	bad=$(decreased "$prev" "$cur")
	[[ -z $bad ]] || fail "after the streams stopped: $bad"
}

# --- the interface -------------------------------------------------------------

@test "a reload on an interface that vanished exits 1 and changes no pin and no count" {
	config good home=10.91.0.0/24 keep=198.51.100.0/24
	config other home=10.91.0.0/24 keep=198.51.100.0/25 new=203.0.113.0/24
	run load_a -f "$CFG/good.json"
	assert_success
	send_in 3 "$IP4_B" 198.51.100.1
	settle
	assert_traffic "ipv4 home keep 3"

	tx_in "$NS_A" ip link delete dev "$IF_A"
	local before
	before=$(state_snapshot)
	[[ $before == *'home",dst="keep"} 3'* ]]

	run load_a -f "$CFG/good.json"
	assert_equal "$status" 1
	assert_output --partial "interface $IF_A not found"
	assert_equal "$(state_snapshot)" "$before"

	run load_a -f "$CFG/other.json" --ingress tc
	assert_equal "$status" 1
	assert_output --partial "interface $IF_A not found"
	assert_equal "$(state_snapshot)" "$before"
}

@test "a reload after the interface came back attaches to it again and keeps the counts" {
	config good home=10.91.0.0/24 keep=198.51.100.0/24
	run load_a -f "$CFG/good.json"
	assert_success
	send_in 3 "$IP4_B" 198.51.100.1
	settle
	assert_traffic "ipv4 home keep 3"

	# The pair goes away and comes back under the same names.
	tx_in "$NS_A" ip link delete dev "$IF_A"
	tx_make_pair
	SENT=0 # the new device's statistics start from zero

	run load_a -f "$CFG/good.json"
	assert_success
	assert_output --partial "ingress xdp (native), egress tc (tcx)"
	assert_traffic "ipv4 home keep 3"
	send_in 2 "$IP4_B" 198.51.100.1
	send_out 1 192.0.2.9 198.51.100.1
	settle
	assert_traffic "ipv4 home keep 5" "ipv4 other keep 1"
	run tx_in "$NS_A" bpftool -j net show dev "$IF_A"
	assert_output --partial '"xdp":[{"devname":"txa0"'
}

@test "a reload to an XDP mode the driver refuses exits 1 and keeps the previous attachment, program and counts" {
	# An ifb device has no native XDP: the kernel refuses --xdp-mode native.
	# Frames sent on it pass TC egress before its driver drops them.
	tx_in "$NS_A" ip link add txd0 type ifb
	tx_in "$NS_A" ip link set txd0 up
	config good home=10.91.0.0/24 keep=198.51.100.0/24
	config more home=10.91.0.0/24 keep=198.51.100.0/24 new=203.0.113.0/24
	run tx_load "$NS_A" -i txd0 -f "$CFG/good.json" --xdp-mode generic
	assert_success
	tx_sendraw "$NS_A" --iface txd0 --count 3 --src 10.91.0.1 --dst 198.51.100.1 --l3-size "$L3" >/dev/null
	local series='texporter_captured_packets_total{iface="txd0",family="ipv4",src="home",dst="keep"}'
	tx_wait_until 5 eval '[[ $(tx_read "$NS_A" | grep -F "$series") == "$series 3" ]]'
	local before
	before=$(tx_read "$NS_A" | grep -v '^texporter_scrape_duration_seconds')

	run tx_load "$NS_A" -i txd0 -f "$CFG/more.json" --xdp-mode native
	assert_equal "$status" 1
	assert_output --partial "cannot attach XDP in native mode"
	assert_output --partial "kept xdp (generic)"
	assert_equal "$(tx_read "$NS_A" | grep -v '^texporter_scrape_duration_seconds')" "$before"
	run tx_load "$NS_A" --status -i txd0
	assert_line "txd0: ingress xdp (generic), egress $(tx_default_egress_words)"
	refute_output --partial "not attached"
	run tx_in "$NS_A" ip link show dev txd0
	assert_output --partial "xdpgeneric"

	# Counting goes on with the previous ranges: "new" does not exist.
	tx_sendraw "$NS_A" --iface txd0 --count 2 --src 10.91.0.1 --dst 203.0.113.1 --l3-size "$L3" >/dev/null
	tx_sendraw "$NS_A" --iface txd0 --count 2 --src 10.91.0.1 --dst 198.51.100.1 --l3-size "$L3" >/dev/null
	tx_wait_until 5 eval '[[ $(tx_read "$NS_A" | grep -F "$series") == "$series 5" ]]'
	run tx_read "$NS_A"
	assert_line 'texporter_captured_packets_total{iface="txd0",family="ipv4",src="home",dst="other"} 2'
	refute_output --partial 'dst="new"'
	run tx_load "$NS_A" -i txd0 --detach
	assert_success
}
