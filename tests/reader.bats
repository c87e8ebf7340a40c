#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# texporter-read, against pins that tests/reader/texporter-fixture makes
# the way texporter-load would (no loader, no traffic). Every test mounts
# its own bpffs and unmounts it in teardown. Servers listen on loopback
# only. Run as root.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	export ROOT_DIR="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	BUILD=${BUILD:-build}
	[[ $BUILD == /* ]] || BUILD=$ROOT_DIR/$BUILD
	export READER="$BUILD/texporter-read"
	export FIXTURE="$BUILD/tests/texporter-fixture"
	export CLIENT="$ROOT_DIR/tests/reader/http-client.py"
	# Built by make (check, check-asan); built here only when missing, as
	# make with another BUILD's flags would mix the two builds.
	[[ -x $READER && -x $FIXTURE ]] ||
		make -C "$ROOT_DIR" --no-print-directory BUILD="$BUILD" "$READER" "$FIXTURE" >/dev/null
	# make check-asan: timing and memory bounds do not hold under ASan,
	# and LeakSanitizer cannot run under strace.
	SANITIZED=$(grep -qa __asan_init "$READER" && echo 1 || true)
	export SANITIZED
}

setup() {
	# Under /tmp, traversable, so that "nobody" can reach the pins.
	T="$(mktemp -d /tmp/texporter-read-test.XXXXXX)"
	chmod 0755 "$T"
	mkdir "$T/bpffs"
	mount -t bpf bpf "$T/bpffs"
	PINS="$T/bpffs/texporter"
	VERSION="$("$READER" -V | sed -E 's/^texporter-read (.*) \(revision .*\)$/\1/')"
	REVISION="$("$READER" -V | sed -E 's/^.*\(revision (.*)\)$/\1/')"
}

teardown() {
	local pid
	for pid in $(cat "$T/pids" 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	umount "$T/bpffs" 2>/dev/null || true
	umount "$T/small" 2>/dev/null || true
	rm -rf "$T"
}

# ---- helpers

fixture() {
	"$FIXTURE" "$PINS"
}

# eth0: three names, traffic on two CPUs (when there are two) and in
# carry, a slot whose destination has no name, errors.
base_fixture() {
	fixture <<'EOF'
iface eth0 capacity=16
meta ingress=1 egress=3 ranges=3 prefixes4=2 prefixes6=1 trie_entries=131328 trie_used=131072 loaded_at=1700000000 changed_at=1700000100 reloads=2
name 0 other
name 1 private
name 2 zoom
count 4 1 2 1500 1 0
count 4 1 2 3000 2 last
count 4 2 1 100 1
count 6 0 1 80 1
count 4 0 3 999 9
error truncated 5 0
error truncated 2 last
error non_ip 7
error length 1 last
carry 4 1 2 10 1
EOF
}

base_expected() {
	cat <<EOF
# HELP texporter_attach_info How texporter is attached to an interface, per direction; 0 when the interface or its program is gone.
# TYPE texporter_attach_info gauge
texporter_attach_info{iface="eth0",direction="egress",hook="tc",mode="tcx"} 1
texporter_attach_info{iface="eth0",direction="ingress",hook="xdp",mode="native"} 1
# HELP texporter_build_info Version and revision of texporter-read.
# TYPE texporter_build_info gauge
texporter_build_info{version="$VERSION",revision="$REVISION"} 1
# HELP texporter_captured_bytes_total L3 bytes captured, by interface, address family, source range and destination range.
# TYPE texporter_captured_bytes_total counter
texporter_captured_bytes_total{iface="eth0",family="ipv4",src="private",dst="zoom"} 4510
texporter_captured_bytes_total{iface="eth0",family="ipv4",src="zoom",dst="private"} 100
texporter_captured_bytes_total{iface="eth0",family="ipv6",src="other",dst="private"} 80
# HELP texporter_captured_packets_total Packets captured, by interface, address family, source range and destination range.
# TYPE texporter_captured_packets_total counter
texporter_captured_packets_total{iface="eth0",family="ipv4",src="private",dst="zoom"} 4
texporter_captured_packets_total{iface="eth0",family="ipv4",src="zoom",dst="private"} 1
texporter_captured_packets_total{iface="eth0",family="ipv6",src="other",dst="private"} 1
# HELP texporter_counters_shared_pairs Pairs of named ranges counted in the shared map because their slot on some CPU was held by another pair.
# TYPE texporter_counters_shared_pairs gauge
texporter_counters_shared_pairs{iface="eth0"} 0
# HELP texporter_counters_slots Per-CPU slots of the counters map (each CPU has this many).
# TYPE texporter_counters_slots gauge
texporter_counters_slots{iface="eth0"} 512
# HELP texporter_counters_slots_used Counter slots held by a pair of named ranges on at least one CPU.
# TYPE texporter_counters_slots_used gauge
texporter_counters_slots_used{iface="eth0"} 3
# HELP texporter_dataplane_errors_total Frames the data plane could not count in full, by reason: truncated and malformed frames are not counted, length errors are counted with the bytes present.
# TYPE texporter_dataplane_errors_total counter
texporter_dataplane_errors_total{iface="eth0",reason="length"} 1
texporter_dataplane_errors_total{iface="eth0",reason="malformed"} 0
texporter_dataplane_errors_total{iface="eth0",reason="truncated"} 7
# HELP texporter_dataplane_info The data plane the loader built for this kernel: the XDP program (multi-buffer, single-buffer before Linux 5.18, none when ingress is tc) and the range table (one map element, or split into 4 MiB elements).
# TYPE texporter_dataplane_info gauge
texporter_dataplane_info{iface="eth0",xdp="multi-buffer",range_table="one-element"} 1
# HELP texporter_ignored_frames_total Frames the data plane ignored because they are not IPv4 or IPv6.
# TYPE texporter_ignored_frames_total counter
texporter_ignored_frames_total{iface="eth0"} 7
# HELP texporter_last_change_timestamp_seconds Unix time of the last load or reload that changed something.
# TYPE texporter_last_change_timestamp_seconds gauge
texporter_last_change_timestamp_seconds{iface="eth0"} 1700000100
# HELP texporter_loaded_timestamp_seconds Unix time of the first load.
# TYPE texporter_loaded_timestamp_seconds gauge
texporter_loaded_timestamp_seconds{iface="eth0"} 1700000000
# HELP texporter_prefixes Prefixes in the classification table, by address family.
# TYPE texporter_prefixes gauge
texporter_prefixes{iface="eth0",family="ipv4"} 2
texporter_prefixes{iface="eth0",family="ipv6"} 1
# HELP texporter_ranges Named ranges in use, the unmatched range included.
# TYPE texporter_ranges gauge
texporter_ranges{iface="eth0"} 3
# HELP texporter_reloads_total Reloads that changed something.
# TYPE texporter_reloads_total counter
texporter_reloads_total{iface="eth0"} 2
# HELP texporter_scrape_duration_seconds Time this scrape took to read the pins and render the metrics.
# TYPE texporter_scrape_duration_seconds gauge
texporter_scrape_duration_seconds DURATION
# HELP texporter_trie_entries Entries the range table's map holds (a split table rounds up to whole 4 MiB elements).
# TYPE texporter_trie_entries gauge
texporter_trie_entries{iface="eth0"} 131328
# HELP texporter_trie_entries_used Trie entries the current classification table uses.
# TYPE texporter_trie_entries_used gauge
texporter_trie_entries_used{iface="eth0"} 131072
# HELP texporter_up 1 if the pins of the interface were read in this scrape, 0 if not (texporter_read_error_info says why).
# TYPE texporter_up gauge
texporter_up{iface="eth0"} 1
EOF
}

# The same in OpenMetrics: counter families without _total, then # EOF.
base_expected_openmetrics() {
	base_expected | sed -E 's/^# (HELP|TYPE) (texporter_[a-z_]+)_total /# \1 \2 /'
	echo '# EOF'
}

# The one value that changes from scrape to scrape (checking its form).
normalise() {
	sed -E 's/^texporter_scrape_duration_seconds [0-9]+\.[0-9]{6}$/texporter_scrape_duration_seconds DURATION/'
}

# texporter-read on this test's pins, options appended.
read_pins() {
	"$READER" --pin-root "$PINS" "$@"
}

read_pins_normalised() {
	read_pins "$@" | normalise
}

# The lines of a scrape that match the extended regexp $1.
read_pins_grep() {
	read_pins "${@:2}" | grep -E "$1"
}

# texporter-read as "nobody" without capabilities; $1: setpriv's groups.
read_pins_as_nobody() {
	setpriv --reuid=nobody --regid=nogroup "$1" --inh-caps=-all \
		"$READER" --pin-root "$PINS" "${@:2}"
}

# Pins as texporter-load --group leaves them: root:GID, 0440 in 0750.
pins_for_group() {
	chown -R "root:$1" "$PINS/eth0"
	chmod 0750 "$PINS/eth0"
	chmod 0440 "$PINS"/eth0/*
}

# curl ARGS..., the duration normalised.
curl_normalised() {
	curl -sS "$@" | normalise
}

# The first line of the answer to the raw request $1 (printf format).
raw_request_status() {
	printf "$1" | /usr/bin/python3 "$CLIENT" raw 127.0.0.1 "$PORT" >"$T/raw"
	head -1 "$T/raw"
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts systemd-socket-activate ARGS... on a free loopback port; sets PORT.
start_socket_activate() {
	PORT="$(free_port)"
	systemd-socket-activate -l "127.0.0.1:$PORT" "$@" 2>"$T/ssa.log" &
	echo $! >>"$T/pids"
	for _ in $(seq 50); do
		grep -q '^Listening on ' "$T/ssa.log" && return 0
		sleep 0.1
	done
	cat "$T/ssa.log" >&2
	return 1
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# One request through --inetd on a pipe: $T/resp.head, $T/resp.body.
inetd_request() {
	printf "$1" | "$READER" --pin-root "$PINS" --inetd "${@:2}" >"$T/resp"
	local rc=$?
	/usr/bin/python3 "$CLIENT" split "$T/resp"
	return $rc
}

# Starts texporter-read --listen ADDR, waits until it listens; sets PORT.
start_server() {
	"$READER" --pin-root "$PINS" "$@" 2>"$T/server.log" &
	SERVER_PID=$!
	echo "$SERVER_PID" >>"$T/pids"
	for _ in $(seq 50); do
		PORT="$(sed -nE 's/.*listening on .*:([0-9]+)( .*)?$/\1/p' "$T/server.log" | head -1)"
		[ -n "$PORT" ] && return 0
		sleep 0.1
	done
	cat "$T/server.log" >&2
	return 1
}

# ---- command line

@test "--help prints the usage and exits 0" {
	run "$READER" --help
	assert_success
	assert_line --index 0 'Usage: texporter-read [OPTION]...'
	assert_line '      --listen [[ADDR]:PORT]  serve HTTP in the foreground until SIGTERM'
	assert_line '  -i, --interface-name IFACE  export only IFACE; repeatable; alias'
	assert_line 'Exit status: 0 ok, 1 runtime failure (pins unreadable, write failed),'
}

@test "--version prints version and revision" {
	run "$READER" --version
	assert_success
	assert_output "texporter-read $VERSION (revision $REVISION)"
}

@test "usage errors exit 2 and point to --help" {
	run "$READER" --no-such-option
	assert_failure 2
	assert_output "texporter-read: error: unknown option \"--no-such-option\"
Try 'texporter-read --help' for more information."

	run "$READER" --textfile
	assert_failure 2
	assert_line --index 0 "texporter-read: error: --textfile needs a value"

	run "$READER" --inetd --textfile "$T/x.prom"
	assert_failure 2
	assert_output "texporter-read: error: --inetd, --listen, --web.systemd-socket and --textfile exclude each other
Try 'texporter-read --help' for more information."

	run "$READER" --listen 1:2:3
	assert_failure 2
	assert_line --index 0 "texporter-read: error: --listen: bad value \"1:2:3\": write an IPv6 address in brackets, as [::1]:2112"

	run "$READER" --listen 127.0.0.1:70000
	assert_failure 2

	run "$READER" -l loud
	assert_failure 2
	assert_line --index 0 "texporter-read: error: --log-level: bad value \"loud\": use trace, debug, info, warn, error, fatal or panic"

	run "$READER" -i ../etc
	assert_failure 2

	run "$READER" surplus
	assert_failure 2
}

# ---- what a scrape exports

@test "stdout: the whole exposition, sorted, exactly" {
	base_fixture
	run read_pins_normalised
	assert_success
	assert_output "$(base_expected)"
}

@test "stdout: promtool check metrics accepts the output" {
	base_fixture
	read_pins >"$T/out"
	run promtool check metrics <"$T/out"
	assert_success
	assert_output ''
}

@test "two scrapes of the same pins differ only in the scrape duration" {
	base_fixture
	read_pins_normalised >"$T/one"
	read_pins_normalised >"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
}

@test "per-CPU counters are summed and carry is added" {
	fixture <<'EOF'
iface eth0
name 0 other
name 1 a
count 4 0 1 100 1 0
count 4 0 1 200 2 last
count 4 0 1 400 4 0
carry 4 0 1 1000 10
carry 6 1 1 5 1
error malformed 3 0
error malformed 4 last
EOF
	run read_pins_grep '_(bytes|packets)_total\{|reason="malformed"' 
	assert_output 'texporter_captured_bytes_total{iface="eth0",family="ipv4",src="other",dst="a"} 1700
texporter_captured_bytes_total{iface="eth0",family="ipv6",src="a",dst="a"} 5
texporter_captured_packets_total{iface="eth0",family="ipv4",src="other",dst="a"} 17
texporter_captured_packets_total{iface="eth0",family="ipv6",src="a",dst="a"} 1
texporter_dataplane_errors_total{iface="eth0",reason="malformed"} 7'
}

@test "series whose source or destination has no name, or no packets, are left out" {
	fixture <<'EOF'
iface eth0
name 0 other
name 2 b
count 4 0 2 100 1
count 4 0 1 100 1
count 4 1 2 100 1
count 4 2 0 100 0
EOF
	# Slots of unnamed ids are not even read: they count as unused. The
	# slot of b -> other is held, though it has no packets.
	run read_pins_grep '^texporter_(captured_packets_total|counters_slots_used)'
	assert_output 'texporter_captured_packets_total{iface="eth0",family="ipv4",src="other",dst="b"} 1
texporter_counters_slots_used{iface="eth0"} 2'
}

@test "series are sorted by family, source name and destination name, not by id" {
	fixture <<'EOF'
iface eth0
name 0 zz
name 1 mm
name 2 aa
count 6 0 0 1 1
count 4 0 2 1 1
count 4 2 0 1 1
count 4 1 1 1 1
count 4 2 2 1 1
EOF
	run read_pins_grep '^texporter_captured_packets'
	assert_output 'texporter_captured_packets_total{iface="eth0",family="ipv4",src="aa",dst="aa"} 1
texporter_captured_packets_total{iface="eth0",family="ipv4",src="aa",dst="zz"} 1
texporter_captured_packets_total{iface="eth0",family="ipv4",src="mm",dst="mm"} 1
texporter_captured_packets_total{iface="eth0",family="ipv4",src="zz",dst="aa"} 1
texporter_captured_packets_total{iface="eth0",family="ipv6",src="zz",dst="zz"} 1'
}

@test "label values escape backslash, double quote and newline; bad UTF-8 becomes U+FFFD" {
	fixture <<'EOF'
iface eth0
name 0 say "hi"
name 1 back\\slash
name 2 two\nlines
name 3 café ☕
name 4 bad\xffbyte
count 4 0 1 1 1
count 4 2 3 1 1
count 4 4 4 1 1
EOF
	read_pins >"$T/out"
	run grep '^texporter_captured_packets' "$T/out"
	assert_output 'texporter_captured_packets_total{iface="eth0",family="ipv4",src="bad�byte",dst="bad�byte"} 1
texporter_captured_packets_total{iface="eth0",family="ipv4",src="say \"hi\"",dst="back\\slash"} 1
texporter_captured_packets_total{iface="eth0",family="ipv4",src="two\nlines",dst="café ☕"} 1'
	run promtool check metrics <"$T/out"
	assert_success
}

@test "a 63-byte name is exported whole" {
	local name=$(printf 'n%.0s' $(seq 63))
	fixture <<EOF
iface eth0
name 0 $name
count 4 0 0 1 1
EOF
	run read_pins_grep '^texporter_captured_packets'
	assert_output "texporter_captured_packets_total{iface=\"eth0\",family=\"ipv4\",src=\"$name\",dst=\"$name\"} 1"
}

@test "the iface label is meta.ifname, or the directory name when that is empty" {
	fixture <<'EOF'
iface dir-a
meta ifname=wlan0
meta ingress=2
iface dir-b
meta ifname=
meta ingress=2
iface dir-c
meta ifname=abcdefghijklmnop
meta ingress=2
EOF
	run read_pins_grep '^texporter_attach_info'
	assert_output 'texporter_attach_info{iface="abcdefghijklmnop",direction="ingress",hook="xdp",mode="generic"} 1
texporter_attach_info{iface="dir-b",direction="ingress",hook="xdp",mode="generic"} 1
texporter_attach_info{iface="wlan0",direction="ingress",hook="xdp",mode="generic"} 1'
}

@test "attach info names hook and mode of each attached direction" {
	fixture <<'EOF'
iface a
meta ingress=1 egress=4
iface b
meta ingress=3 egress=0
EOF
	run read_pins_grep '^texporter_attach_info'
	assert_output 'texporter_attach_info{iface="a",direction="egress",hook="tc",mode="legacy"} 1
texporter_attach_info{iface="a",direction="ingress",hook="xdp",mode="native"} 1
texporter_attach_info{iface="b",direction="ingress",hook="tc",mode="tcx"} 1'
}

@test "dataplane info names the XDP program and the range table the loader chose" {
	fixture <<'EOF'
iface a
meta ingress=1 egress=3 features=0
iface b
meta ingress=2 egress=4 features=3
iface c
meta ingress=4 egress=4 features=1
iface d
meta ingress=3 egress=3 features=2
EOF
	run read_pins_grep '^texporter_dataplane_info'
	assert_output 'texporter_dataplane_info{iface="a",xdp="multi-buffer",range_table="one-element"} 1
texporter_dataplane_info{iface="b",xdp="single-buffer",range_table="split"} 1
texporter_dataplane_info{iface="c",xdp="none",range_table="one-element"} 1
texporter_dataplane_info{iface="d",xdp="none",range_table="split"} 1'
}

@test "every loaded interface by default, only directories with a meta pin" {
	fixture <<'EOF'
iface veth1
iface veth0
EOF
	mkdir "$PINS/not-loaded"
	run read_pins_grep '^texporter_counters_slots\{'
	assert_output 'texporter_counters_slots{iface="veth0"} 512
texporter_counters_slots{iface="veth1"} 512'
}

@test "-i selects interfaces; --interface is an alias" {
	fixture <<'EOF'
iface veth0
iface veth1
iface veth2
EOF
	run read_pins_grep '^texporter_counters_slots\{' -i veth2 --interface veth0 -i veth2
	assert_output 'texporter_counters_slots{iface="veth0"} 512
texporter_counters_slots{iface="veth2"} 512'
}

@test "-i of an interface that is not loaded exits 1 and says so" {
	base_fixture
	run read_pins -i eth9
	assert_failure 1
	assert_output "texporter-read: error: interface eth9 is not loaded: no pin $PINS/eth9/meta (load it with texporter-load -i eth9, or check --pin-root)"
}

@test "a missing pin root exits 1 and says so" {
	run "$READER" --pin-root "$T/bpffs/nowhere"
	assert_failure 1
	assert_output "texporter-read: error: pin root $T/bpffs/nowhere does not exist: no interface is loaded (run texporter-load) or --pin-root is wrong"
}

@test "an empty pin root gives the self-description only, with a warning" {
	mkdir "$PINS"
	read_pins >"$T/out" 2>"$T/err"
	run cat "$T/err"
	assert_output "texporter-read: warn: no interface is loaded under $PINS"
	grep -v '^#' "$T/out" >"$T/samples"
	run normalise <"$T/samples"
	assert_output "texporter_build_info{version=\"$VERSION\",revision=\"$REVISION\"} 1
texporter_scrape_duration_seconds DURATION"
}

@test "pins with another layout exit 1 and name the pin" {
	fixture <<'EOF'
iface eth0
meta layout=3
EOF
	run read_pins
	assert_failure 1
	assert_output "texporter-read: error: pin eth0/meta has layout version 3, this texporter reads version 2: install matching texporter-load and texporter-read, or detach with the texporter-load that loaded it"

	fixture <<'EOF'
iface eth0
meta layout=2 capacity=32
EOF
	run read_pins
	assert_failure 1
	assert_output --partial "texporter-read: error: pin eth0/shared does not have the layout this reader expects"
}

@test "pins of the layout before slots are up 0 with reason layout and say to run texporter-load again" {
	base_fixture
	printf 'iface eth1 layout=1\nname 0 other\ncount 4 0 0 100 1\n' | fixture
	read_pins >"$T/out" 2>"$T/err"
	run grep -E '^texporter_(up|read_error_info)' "$T/out"
	assert_output 'texporter_read_error_info{iface="eth1",reason="layout"} 1
texporter_up{iface="eth0"} 1
texporter_up{iface="eth1"} 0'
	run cat "$T/err"
	assert_output "texporter-read: warn: pin eth1/meta has layout version 1 of an older texporter-load, this texporter reads version 2: run texporter-load again for the interface (it converts the pins and keeps the counts); interface eth1 left out of this scrape (texporter_up 0)"
}

@test "a counters map whose slots are not a power of two is refused with the layout it should have" {
	printf 'iface eth0 slots=100\n' | fixture
	run read_pins
	assert_failure 1
	assert_output --partial "texporter-read: error: pin eth0/counters does not have the layout this reader expects (map type 6, key 4, value 24 bytes, 100 entries; expected type 6, key 4, value 24 bytes, a power of two in 64..2097152 entries)"
}

# ---- counter slots

# The possible CPUs, as the kernel sizes per-CPU values.
possible_cpus() {
	local last
	last=$(sed -E 's/.*[-,]//' /sys/devices/system/cpu/possible)
	echo $((last + 1))
}

# Fixture commands for eth0 (capacity 16, $1 slots): 10 names, every pair
# of both families counted on CPU 0 and on the last CPU.
many_pairs() {
	echo "iface eth0 capacity=16 slots=$1"
	echo "name 0 other"
	for id in $(seq 1 9); do echo "name $id r$id"; done
	for fam in 4 6; do
		for src in $(seq 0 9); do
			for dst in $(seq 0 9); do
				echo "count $fam $src $dst $((100 + src * 10 + dst)) $((1 + dst % 3)) 0"
				echo "count $fam $src $dst $((7 * src + dst + fam)) 2 last"
			done
		done
	done
}

# What the reader must show for the commands in $T/commands ($1 slots),
# worked out by tests/reader/slots-model.py.
many_pairs_expected() {
	"$ROOT_DIR/tests/reader/slots-model.py" eth0 16 "$1" "$(possible_cpus)" \
		<"$T/commands"
}

@test "few slots: every pair's total is exact, pairs that found their slot taken are counted in shared" {
	many_pairs 64 >"$T/commands"
	fixture <"$T/commands"
	many_pairs_expected 64 >"$T/expected"
	# 200 pairs in 64 slots: over a hundred cannot have one.
	run grep -E '^texporter_counters_shared_pairs\{iface="eth0"\} 1[0-9][0-9]$' "$T/expected"
	assert_success
	run read_pins_grep '^texporter_(captured_[a-z]+_total|counters_shared_pairs|counters_slots_used)\{'
	assert_success
	assert_output "$(cat "$T/expected")"
	run read_pins_grep '^texporter_counters_slots\{'
	assert_output 'texporter_counters_slots{iface="eth0"} 64'
}

@test "one slot per pair: the same totals, nothing in shared" {
	many_pairs 512 >"$T/commands"
	fixture <"$T/commands"
	many_pairs_expected 512 >"$T/expected"
	run read_pins_grep '^texporter_(captured_[a-z]+_total|counters_shared_pairs|counters_slots_used)\{'
	assert_output "$(cat "$T/expected")"
	assert_line 'texporter_counters_shared_pairs{iface="eth0"} 0'
	assert_line 'texporter_counters_slots_used{iface="eth0"} 200'
}

# Two ipv4 pairs, "SRC DST SRC DST", whose slots collide in a counters map
# of 64 slots for capacity 16 (the hash of bpf/texporter.h, written anew).
colliding_pairs() {
	python3 -c '
slot = lambda i: (((i + 1) * 0x9E3779B1) & 0xFFFFFFFF) >> 26
seen = {}
for i in range(1, 256):
    if slot(i) in seen:
        j = seen[slot(i)]
        print(j // 16, j % 16, i // 16, i % 16)
        break
    seen[slot(i)] = i
'
}

@test "a pair counted in its slot on one CPU and in shared on another sums both" {
	[[ $(possible_cpus) -ge 2 ]] || skip "needs two possible CPUs"
	read -r a_src a_dst b_src b_dst <<<"$(colliding_pairs)"
	fixture <<EOF
iface eth0 capacity=16 slots=64
$(for id in $(seq 0 15); do echo "name $id n$id"; done)
count 4 $b_src $b_dst 1 1 1
count 4 $a_src $a_dst 1000 10 0
count 4 $a_src $a_dst 500 5 1
EOF
	run read_pins_grep "^texporter_captured_bytes_total\{.*src=\"n$a_src\",dst=\"n$a_dst\"|^texporter_counters_(shared_pairs|slots_used)"
	assert_output "texporter_captured_bytes_total{iface=\"eth0\",family=\"ipv4\",src=\"n$a_src\",dst=\"n$a_dst\"} 1500
texporter_counters_shared_pairs{iface=\"eth0\"} 1
texporter_counters_slots_used{iface=\"eth0\"} 1"
}

@test "a pair's shared entry and carry add to its slots" {
	fixture <<'EOF'
iface eth0 capacity=16 slots=64
name 0 other
name 1 a
count 4 0 1 100 1 0
count 4 0 1 200 2 last
shared 4 0 1 30 3
carry 4 0 1 4000 40
EOF
	run read_pins_grep '^texporter_(captured_bytes_total|counters_shared_pairs)'
	assert_output 'texporter_captured_bytes_total{iface="eth0",family="ipv4",src="other",dst="a"} 4330
texporter_counters_shared_pairs{iface="eth0"} 1'
}

# ---- unmatched prefixes: the map and its cache

@test "an unmatched prefix's cache slots on every CPU add to its element of the map; the untracked entries to the untracked totals" {
	fixture <<'EOF'
iface eth0 capacity=16
name 0 other
name 1 lan
unmatched 4 src 198.51.100.0/24 100 1 0
cache 4 src 198.51.100.0/24 500 5 0
cache 4 src 198.51.100.0/24 2000 20 last
unmatched 6 dst 2001:db8:1::/48 60 1 last
unmatched 4 dst untracked 70 1
cache 4 dst untracked 300 3 last
EOF
	run read_pins --unmatched
	assert_success
	assert_output "iface	family	side	prefix	bytes	packets	share_of_unmatched
eth0	ipv4	src	198.51.100.0/24	2600	26	100.00%
eth0	ipv4	dst	untracked	370	4	100.00%
eth0	ipv6	dst	2001:db8:1::/48	60	1	100.00%"
}

@test "a cache slot of a prefix the map does not hold (claimed after the map was read) is left for the next read" {
	fixture <<'EOF'
iface eth0 capacity=16
name 0 other
name 1 lan
unmatched 4 src 198.51.100.0/24 100 1
cache 4 src 203.0.113.0/24 900 9
EOF
	run read_pins_grep '^texporter_unmatched_top_'
	assert_output 'texporter_unmatched_top_bytes_total{iface="eth0",family="ipv4",side="src",prefix="198.51.100.0/24"} 100
texporter_unmatched_top_packets_total{iface="eth0",family="ipv4",side="src",prefix="198.51.100.0/24"} 1'
	# Once the map holds it (as it does before the programs claim a slot),
	# the slot's counts are read with it.
	printf 'iface eth0\nunmatched 4 src 203.0.113.0/24 10 1\n' | fixture
	run read_pins_grep '^texporter_unmatched_top_packets_total'
	assert_output 'texporter_unmatched_top_packets_total{iface="eth0",family="ipv4",side="src",prefix="203.0.113.0/24"} 10
texporter_unmatched_top_packets_total{iface="eth0",family="ipv4",side="src",prefix="198.51.100.0/24"} 1'
}

@test "pins without an unmatched cache (an older texporter-load) read the map alone" {
	fixture <<'EOF'
iface eth0 capacity=16
name 0 other
unmatched 4 src 198.51.100.0/24 100 1
EOF
	[[ ! -e $PINS/eth0/unmatched_cache ]]
	run read_pins_grep '^texporter_unmatched_top_bytes_total'
	assert_output 'texporter_unmatched_top_bytes_total{iface="eth0",family="ipv4",side="src",prefix="198.51.100.0/24"} 100'
}

# ---- one interface that cannot be read

@test "a foreign, a half-built and a good interface: the good one is served, the others are up 0 with a reason" {
	base_fixture
	printf 'iface eth1\nmeta layout=3\n' | fixture
	printf 'iface eth2\nmeta ranges=1\nname 0 other\nunpin names\n' | fixture
	read_pins >"$T/out" 2>"$T/err"
	run grep -E '^texporter_(up|read_error_info)|^texporter_captured_bytes_total' "$T/out"
	assert_output 'texporter_captured_bytes_total{iface="eth0",family="ipv4",src="private",dst="zoom"} 4510
texporter_captured_bytes_total{iface="eth0",family="ipv4",src="zoom",dst="private"} 100
texporter_captured_bytes_total{iface="eth0",family="ipv6",src="other",dst="private"} 80
texporter_read_error_info{iface="eth1",reason="layout"} 1
texporter_read_error_info{iface="eth2",reason="missing"} 1
texporter_up{iface="eth0"} 1
texporter_up{iface="eth1"} 0
texporter_up{iface="eth2"} 0'
	# Families of readable interfaces only: nothing else names eth1 or eth2.
	run grep -cE 'iface="eth[12]"' "$T/out"
	assert_output 4
	run cat "$T/err"
	assert_line "texporter-read: warn: pin eth1/meta has layout version 3, this texporter reads version 2: install matching texporter-load and texporter-read, or detach with the texporter-load that loaded it; interface eth1 left out of this scrape (texporter_up 0)"
	assert_line --partial "texporter-read: warn: interface eth2 is not loaded: no pin $PINS/eth2/names"
}

@test "inetd: one foreign interface among good ones still answers 200" {
	base_fixture
	printf 'iface eth1\nmeta layout=3\n' | fixture
	inetd_request 'GET /metrics HTTP/1.1\r\n\r\n'
	run head -1 "$T/resp.head"
	assert_output 'HTTP/1.1 200 OK'
	run grep '^texporter_up' "$T/resp.body"
	assert_output 'texporter_up{iface="eth0"} 1
texporter_up{iface="eth1"} 0'
}

@test "no interface readable at all is a failure that names each one" {
	printf 'iface eth0\nmeta layout=3\n' | fixture
	printf 'iface eth1\nmeta layout=4\n' | fixture
	run read_pins
	assert_failure 1
	assert_line --index 0 --partial "texporter-read: warn: pin eth0/meta has layout version 3"
	assert_line --index 1 --partial "texporter-read: warn: pin eth1/meta has layout version 4"
	assert_line --index 2 --partial "texporter-read: error: none of the 2 interfaces could be read (each one is named above); the first: pin eth0/meta has layout version 3"
}

@test "several interfaces mid-change share one wait: one scrape, the good one served" {
	base_fixture
	for i in 1 2 3 4 5; do
		printf 'iface odd%s\nname 0 other\nmeta seq=7\n' "$i" | fixture
	done
	local start=$(now_ms)
	read_pins >"$T/out" 2>"$T/err"
	local took=$(($(now_ms) - start))
	run grep -c '^texporter_read_error_info{iface="odd[1-5]",reason="changing"} 1$' "$T/out"
	assert_output 5
	run grep -c '^texporter_up{iface="odd[1-5]"} 0$' "$T/out"
	assert_output 5
	run grep -c 'the loader has been changing this interface for 1000 ms (meta seq 7)' "$T/err"
	assert_output 5
	assert_equal "$(grep -c '^texporter_captured' "$T/out")" 6
	# One shared wait of 1 s, not 1 s each (5 s); make bench times it.
	[ -n "$SANITIZED" ] || [ "$took" -lt 4000 ]
}

@test "an interface the loader finishes during the wait is served" {
	base_fixture
	printf 'iface eth1\nmeta seq=3 ranges=1\nname 0 other\ncount 4 0 0 60 1\n' | fixture
	( sleep 0.3; printf 'iface eth1\nmeta seq=4\n' | "$FIXTURE" "$PINS" ) &
	run read_pins_grep '^texporter_up|iface="eth1".*src="other",dst="other"'
	wait
	assert_output 'texporter_captured_bytes_total{iface="eth1",family="ipv4",src="other",dst="other"} 60
texporter_captured_packets_total{iface="eth1",family="ipv4",src="other",dst="other"} 1
texporter_up{iface="eth0"} 1
texporter_up{iface="eth1"} 1'
}

# ---- hostile or stale map contents

@test "two ids under one name give one series with the counts of both" {
	fixture <<'EOF'
iface eth0
name 0 other
name 1 dup
name 2 dup
count 4 1 0 100 1
count 4 2 0 50 2
count 4 2 2 7 1
count 4 0 1 5 1
EOF
	read_pins >"$T/out" 2>"$T/err"
	run grep '^texporter_captured_packets_total' "$T/out"
	assert_output 'texporter_captured_packets_total{iface="eth0",family="ipv4",src="dup",dst="dup"} 1
texporter_captured_packets_total{iface="eth0",family="ipv4",src="dup",dst="other"} 3
texporter_captured_packets_total{iface="eth0",family="ipv4",src="other",dst="dup"} 1'
	run grep '^texporter_captured_bytes_total.*src="dup",dst="other"' "$T/out"
	assert_output 'texporter_captured_bytes_total{iface="eth0",family="ipv4",src="dup",dst="other"} 150'
	run cat "$T/err"
	assert_output 'texporter-read: warn: eth0: ids 1 and 2 are both named "dup": counting id 2 under id 1 (the names map was not written by texporter-load)'
}

@test "a sum beyond 2^64-1 is shown at 2^64-1, never wrapped, with a warning" {
	fixture <<'EOF'
iface eth0
name 0 other
count 4 0 0 18446744073709551610 18446744073709551614
carry 4 0 0 100 5
EOF
	read_pins >"$T/out" 2>"$T/err"
	run grep '^texporter_captured' "$T/out"
	assert_output 'texporter_captured_bytes_total{iface="eth0",family="ipv4",src="other",dst="other"} 18446744073709551615
texporter_captured_packets_total{iface="eth0",family="ipv4",src="other",dst="other"} 18446744073709551615'
	run cat "$T/err"
	assert_output 'texporter-read: warn: eth0: a counter summed over the CPUs exceeds 2^64-1; it is shown as 18446744073709551615'
}

@test "attach info turns 0 when the interface is deleted, or its XDP hook is empty" {
	# In a network namespace of its own: two veth pairs, whose ifindex the
	# fixture records as the loader would; txr2 stays.
	run unshare --net bash -c '
		ip link add txr0 type veth peer name txr1 || exit 1
		ip link add txr2 type veth peer name txr3 || exit 1
		index() { ip -o link show "$1" | cut -d: -f1; }
		printf "iface txr0\nmeta ifname=txr0 ifindex=%s ingress=3 egress=3\nname 0 other\n" "$(index txr0)" | "$0" "$1"
		printf "iface txr1\nmeta ifname=txr1 ifindex=%s ingress=1 egress=3\nname 0 other\n" "$(index txr1)" | "$0" "$1"
		printf "iface txr2\nmeta ifname=txr2 ifindex=%s ingress=3 egress=3\nname 0 other\n" "$(index txr2)" | "$0" "$1"
		"$2" --pin-root "$1" | grep "^texporter_attach_info"
		ip link del txr0 # takes txr1 with it
		"$2" --pin-root "$1" | grep "^texporter_attach_info"' "$FIXTURE" "$PINS" "$READER"
	assert_success
	assert_output 'texporter_attach_info{iface="txr0",direction="egress",hook="tc",mode="tcx"} 1
texporter_attach_info{iface="txr0",direction="ingress",hook="tc",mode="tcx"} 1
texporter_attach_info{iface="txr1",direction="egress",hook="tc",mode="tcx"} 1
texporter_attach_info{iface="txr1",direction="ingress",hook="xdp",mode="native"} 0
texporter_attach_info{iface="txr2",direction="egress",hook="tc",mode="tcx"} 1
texporter_attach_info{iface="txr2",direction="ingress",hook="tc",mode="tcx"} 1
texporter_attach_info{iface="txr0",direction="egress",hook="tc",mode="tcx"} 0
texporter_attach_info{iface="txr0",direction="ingress",hook="tc",mode="tcx"} 0
texporter_attach_info{iface="txr1",direction="egress",hook="tc",mode="tcx"} 0
texporter_attach_info{iface="txr1",direction="ingress",hook="xdp",mode="native"} 0
texporter_attach_info{iface="txr2",direction="egress",hook="tc",mode="tcx"} 1
texporter_attach_info{iface="txr2",direction="ingress",hook="tc",mode="tcx"} 1'
}

@test "attach info keeps the loader's word when the reader is in another network namespace" {
	run unshare --net bash -c '
		ip link add txr0 type veth peer name txr1 || exit 1
		printf "iface txr0\nmeta ifname=txr0 ifindex=%s ingress=1 egress=3\nname 0 other\n" "$(ip -o link show txr0 | cut -d: -f1)" | "$0" "$1"
		unshare --net "$2" --pin-root "$1" | grep "^texporter_attach_info"' "$FIXTURE" "$PINS" "$READER"
	assert_success
	assert_output 'texporter_attach_info{iface="txr0",direction="egress",hook="tc",mode="tcx"} 1
texporter_attach_info{iface="txr0",direction="ingress",hook="xdp",mode="native"} 1'
}

# ---- consistency with a loader at work (meta.seq)

@test "an odd meta.seq makes the reader wait until the loader is done" {
	base_fixture
	echo -e "iface eth0\nmeta seq=3" | fixture
	( sleep 0.4; echo -e "iface eth0\nmeta seq=4" | "$FIXTURE" "$PINS" ) &
	local start=$(now_ms)
	run read_pins
	local took=$(($(now_ms) - start))
	wait
	assert_success
	assert_line 'texporter_captured_bytes_total{iface="eth0",family="ipv4",src="private",dst="zoom"} 4510'
	[ "$took" -ge 350 ]
	[ -n "$SANITIZED" ] || [ "$took" -lt 1500 ]
}

@test "an odd meta.seq that stays leaves the interface out after 1 s; alone, that is a failure" {
	base_fixture
	echo -e "iface eth0\nmeta seq=5" | fixture
	local start=$(now_ms)
	run read_pins
	local took=$(($(now_ms) - start))
	assert_failure 1
	assert_output "texporter-read: error: eth0: the loader has been changing this interface for 1000 ms (meta seq 5): is texporter-load still running? If not, run it again to complete the change"
	[ "$took" -ge 950 ]
}

@test "a change while reading makes the reader start that interface over" {
	command -v strace >/dev/null || skip "needs strace to widen the race window"
	base_fixture
	# Hold the 12th bpf() call (a batch lookup) for 0.5 s; meanwhile the
	# "loader" changes a counter and bumps seq.
	( sleep 0.25; printf 'iface eth0\nmeta seq=4\ncount 4 1 2 1000 1\n' | "$FIXTURE" "$PINS" ) &
	ASAN_OPTIONS=detect_leaks=0 run strace -f -o /dev/null -e trace=bpf \
		-e inject=bpf:delay_enter=500000:when=12 \
		"$READER" --pin-root "$PINS" -l debug
	wait
	assert_success
	assert_line 'texporter-read: debug: eth0: changed while being read, attempt 1 of 8'
	assert_line 'texporter_captured_bytes_total{iface="eth0",family="ipv4",src="private",dst="zoom"} 5510'
}

@test "counters grown and replaced by the loader are read at the new capacity" {
	command -v strace >/dev/null || skip "needs strace to widen the race window"
	base_fixture
	( sleep 0.25; printf 'iface eth0\nmeta seq=3\ngrow 32\nname 1 private\nname 2 zoom\ncount 4 1 2 42 3\nmeta seq=4\n' | "$FIXTURE" "$PINS" ) &
	ASAN_OPTIONS=detect_leaks=0 run strace -f -o /dev/null -e trace=bpf \
		-e inject=bpf:delay_enter=500000:when=12 \
		"$READER" --pin-root "$PINS"
	wait
	assert_success
	assert_line 'texporter_counters_slots{iface="eth0"} 2048'
	assert_line 'texporter_captured_bytes_total{iface="eth0",family="ipv4",src="private",dst="zoom"} 42'
}

# ---- privileges

@test "without capabilities, a user in the pins' group reads them" {
	base_fixture
	pins_for_group 64999
	read_pins_as_nobody --groups=64999 >"$T/out"
	run normalise <"$T/out"
	assert_output "$(base_expected)"
}

@test "without the group, the error names the pin and the fix" {
	base_fixture
	pins_for_group 64999
	run read_pins_as_nobody --clear-groups
	assert_failure 1
	assert_output "texporter-read: error: cannot open $PINS/eth0/meta: Permission denied. The reader's user must be in the loader's --group group (pins are root:GROUP 0440 in a 0750 directory); on systemd systems /sys/fs/bpf itself is mode 0700: run the reader from texporter-read@.service or make /sys/fs/bpf traversable"
}

@test "a bpffs mount the user cannot traverse gives the same remedy" {
	base_fixture
	chmod 0700 "$T/bpffs"
	run read_pins_as_nobody --clear-groups
	assert_failure 1
	assert_output --partial "texporter-read: error: cannot open $PINS: Permission denied. The reader's user must be in"
	assert_output --partial "run the reader from texporter-read@.service or make /sys/fs/bpf traversable"
}

# ---- --textfile

@test "--textfile writes the exposition atomically, readable, no temp file left" {
	base_fixture
	mkdir "$T/tf"
	echo old >"$T/tf/texporter.prom"
	umask 022
	run read_pins --textfile "$T/tf/texporter.prom"
	assert_success
	assert_output ''
	run normalise <"$T/tf/texporter.prom"
	assert_output "$(base_expected)"
	run stat -c %a "$T/tf/texporter.prom"
	assert_output 644
	run ls -A "$T/tf"
	assert_output texporter.prom
}

@test "--textfile on a full disk exits 1, keeps the old file, leaves no temp file" {
	fixture <<'EOF'
iface eth0 capacity=64
fill 50
EOF
	mkdir "$T/small"
	mount -t tmpfs -o size=64k tmpfs "$T/small"
	echo old >"$T/small/texporter.prom"
	run read_pins --textfile "$T/small/texporter.prom"
	assert_failure 1
	assert_output --regexp "^texporter-read: error: cannot write $T/small/texporter.prom \(via $T/small/\.texporter\.prom\.[A-Za-z0-9]{6}\): No space left on device$"
	run ls -A "$T/small"
	assert_output texporter.prom
	run cat "$T/small/texporter.prom"
	assert_output old
}

@test "--textfile interrupted by SIGTERM removes its temp file" {
	command -v strace >/dev/null || skip "needs strace to hold the write open"
	base_fixture
	mkdir "$T/tf"
	echo old >"$T/tf/texporter.prom"
	# Hold fsync() for 2 s so the signal lands while the temp file exists.
	strace -o /dev/null -e trace=fsync -e inject=fsync:delay_enter=2000000 \
		"$READER" --pin-root "$PINS" --textfile "$T/tf/texporter.prom" &
	local tracer=$! reader=
	for _ in $(seq 50); do
		[ -n "$(ls -A "$T/tf" | grep '^\.texporter\.prom\.')" ] && break
		sleep 0.05
	done
	run ls -A "$T/tf"
	assert_output --regexp '^\.texporter\.prom\.[A-Za-z0-9]{6}'
	reader=$(pgrep -P "$tracer")
	kill -TERM "$reader"
	local rc=0
	wait "$tracer" || rc=$?
	[ "$rc" -eq 143 ]
	run ls -A "$T/tf"
	assert_output texporter.prom
	run cat "$T/tf/texporter.prom"
	assert_output old
}

@test "--textfile leaves the old file alone when the pins cannot be read" {
	mkdir "$T/tf"
	echo old >"$T/tf/texporter.prom"
	run "$READER" --pin-root "$T/bpffs/nowhere" --textfile "$T/tf/texporter.prom"
	assert_failure 1
	run ls -A "$T/tf"
	assert_output texporter.prom
	run cat "$T/tf/texporter.prom"
	assert_output old
}

@test "--textfile into a directory it cannot write exits 1 and says why" {
	base_fixture
	run read_pins --textfile "$T/no-such-dir/texporter.prom"
	assert_failure 1
	assert_output "texporter-read: error: cannot create a temporary file in $T/no-such-dir: No such file or directory"
}

# ---- HTTP, one request on stdin/stdout (--inetd)

@test "inetd: GET /metrics answers 200 with the text format" {
	base_fixture
	run inetd_request 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'
	assert_success
	run cat "$T/resp.head"
	assert_output "HTTP/1.1 200 OK
Content-Type: text/plain; version=0.0.4; charset=utf-8
Content-Length: $(stat -c %s "$T/resp.body")
Vary: Accept, Accept-Encoding
Connection: close"
	run normalise <"$T/resp.body"
	assert_output "$(base_expected)"
}

@test "inetd: HEAD /metrics has the same headers and no body" {
	base_fixture
	inetd_request 'GET /metrics HTTP/1.1\r\n\r\n'
	local get_length=$(grep Content-Length "$T/resp.head")
	run inetd_request 'HEAD /metrics HTTP/1.1\r\n\r\n'
	assert_success
	run cat "$T/resp.head"
	assert_output "HTTP/1.1 200 OK
Content-Type: text/plain; version=0.0.4; charset=utf-8
$get_length
Vary: Accept, Accept-Encoding
Connection: close"
	run stat -c %s "$T/resp.body"
	assert_output 0
}

@test "inetd: OpenMetrics when Accept prefers it, as Prometheus asks" {
	base_fixture
	run inetd_request 'GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n\r\n'
	assert_success
	run sed -n 2p "$T/resp.head"
	assert_output 'Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8'
	run normalise <"$T/resp.body"
	assert_output "$(base_expected_openmetrics)"
	assert_line '# TYPE texporter_captured_bytes counter'
	assert_line '# TYPE texporter_reloads counter'
	assert_line --index -1 '# EOF'
}

@test "inetd: the OpenMetrics output passes a strict OpenMetrics parser" {
	/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null ||
		skip "needs python3-prometheus-client"
	base_fixture
	inetd_request 'GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text\r\n\r\n'
	run /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
print(sum(len(f.samples) for f in text_string_to_metric_families(open(sys.argv[1]).read())))' "$T/resp.body"
	assert_success
	assert_output 27
}

@test "inetd: the text format when Accept prefers it or says nothing" {
	base_fixture
	for accept in '' 'Accept: text/plain\r\n' \
		'Accept: application/openmetrics-text;q=0.4,text/plain;q=0.5\r\n' \
		'Accept: application/openmetrics-text;q=0,*/*\r\n' \
		'Accept: application/openmetrics-text;version=9.9.9\r\n'; do
		inetd_request "GET /metrics HTTP/1.1\r\n$accept\r\n"
		run sed -n 2p "$T/resp.head"
		assert_output 'Content-Type: text/plain; version=0.0.4; charset=utf-8'
	done
}

@test "inetd: gzip when Accept-Encoding allows it" {
	base_fixture
	run inetd_request 'GET /metrics HTTP/1.1\r\nAccept-Encoding: deflate, gzip;q=0.9\r\n\r\n'
	assert_success
	run cat "$T/resp.head"
	assert_output "HTTP/1.1 200 OK
Content-Type: text/plain; version=0.0.4; charset=utf-8
Content-Length: $(stat -c %s "$T/resp.body")
Content-Encoding: gzip
Vary: Accept, Accept-Encoding
Connection: close"
	run bash -c 'gzip -dc <"$0" >"$0.txt"' "$T/resp.body"
	assert_success
	run normalise <"$T/resp.body.txt"
	assert_success
	assert_output "$(base_expected)"

	inetd_request 'GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip;q=0, identity\r\n\r\n'
	run grep -c Content-Encoding "$T/resp.head"
	assert_output 0
}

@test "inetd: / is a landing page that links to /metrics" {
	run inetd_request 'GET / HTTP/1.0\r\n\r\n'
	assert_success
	run cat "$T/resp.head"
	assert_output "HTTP/1.1 200 OK
Content-Type: text/html; charset=utf-8
Content-Length: $(stat -c %s "$T/resp.body")
Connection: close"
	run grep -c '<a href="/metrics">' "$T/resp.body"
	assert_output 1
}

@test "inetd: other paths are 404, other methods 405 with Allow" {
	run inetd_request 'GET /metrics/ HTTP/1.1\r\n\r\n'
	assert_success
	run cat "$T/resp.head" "$T/resp.body"
	assert_output "HTTP/1.1 404 Not Found
Content-Type: text/plain; charset=utf-8
Content-Length: 14
Connection: close
404 Not Found"

	run inetd_request 'POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n'
	assert_success
	run cat "$T/resp.head" "$T/resp.body"
	assert_output "HTTP/1.1 405 Method Not Allowed
Content-Type: text/plain; charset=utf-8
Content-Length: 23
Allow: GET, HEAD
Connection: close
405 Method Not Allowed"
}

@test "inetd: a query string and the absolute form still reach /metrics" {
	base_fixture
	inetd_request 'GET /metrics?x=1 HTTP/1.1\r\n\r\n'
	run head -1 "$T/resp.head"
	assert_output 'HTTP/1.1 200 OK'
	inetd_request 'GET http://localhost:2112/metrics HTTP/1.1\r\n\r\n'
	run head -1 "$T/resp.head"
	assert_output 'HTTP/1.1 200 OK'
}

@test "inetd: malformed requests are 400" {
	for req in 'GET /metrics\r\n\r\n' 'GET  /metrics HTTP/1.1\r\n\r\n' \
		'GET /metrics HTTP/1.1\r\nno colon\r\n\r\n' \
		'GET /metrics HTTP/1.1\r\n folded: x\r\n\r\n' \
		'GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n' \
		'\x16\x03\x01\x02\x00' 'GET /metrics HTTP/1.1\r\nHost: x\r\n'; do
		run inetd_request "$req"
		assert_success
		run head -1 "$T/resp.head"
		assert_output 'HTTP/1.1 400 Bad Request'
	done
}

@test "inetd: HTTP/2 and later are 505" {
	run inetd_request 'GET /metrics HTTP/2.0\r\n\r\n'
	run head -1 "$T/resp.head"
	assert_output 'HTTP/1.1 505 HTTP Version Not Supported'
}

@test "inetd: a request line over 8 KiB is 414, headers over 8 KiB are 431" {
	run inetd_request "GET /$(printf 'a%.0s' $(seq 8200)) HTTP/1.1\r\n\r\n"
	assert_success
	run cat "$T/resp.head" "$T/resp.body"
	assert_output "HTTP/1.1 414 URI Too Long
Content-Type: text/plain; charset=utf-8
Content-Length: 70
Connection: close
414 URI Too Long
The request line and headers must fit in 8192 bytes."

	run inetd_request "GET /metrics HTTP/1.1\r\nX-Pad: $(printf 'b%.0s' $(seq 8200))\r\n\r\n"
	assert_success
	run head -1 "$T/resp.head"
	assert_output 'HTTP/1.1 431 Request Header Fields Too Large'
}

@test "inetd: unreadable pins are 503 with the reason, exit 1" {
	run bash -c 'printf "GET /metrics HTTP/1.1\r\n\r\n" | "$0" --pin-root "$1" --inetd >"$2/resp" 2>"$2/err"' "$READER" "$PINS" "$T"
	assert_failure 1
	/usr/bin/python3 "$CLIENT" split "$T/resp"
	run cat "$T/resp.head" "$T/resp.body"
	assert_output "HTTP/1.1 503 Service Unavailable
Content-Type: text/plain; charset=utf-8
Content-Length: $(stat -c %s "$T/resp.body")
Connection: close
503 Service Unavailable
pin root $PINS does not exist: no interface is loaded (run texporter-load) or --pin-root is wrong"
	run cat "$T/err"
	assert_output "texporter-read: error: pin root $PINS does not exist: no interface is loaded (run texporter-load) or --pin-root is wrong"
}

@test "inetd under systemd-socket-activate: stdin is a socket, no flag needed" {
	base_fixture
	start_socket_activate -a --inetd "$READER" --pin-root "$PINS"
	local port=$PORT
	run curl_normalised --compressed -H "Accept: application/openmetrics-text" "http://127.0.0.1:$port/metrics"
	assert_success
	assert_output "$(base_expected_openmetrics)"
	run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope"
	assert_output 404
	run /usr/bin/python3 "$CLIENT" slow 127.0.0.1 "$port"
	assert_output 'HTTP/1.1 408 Request Timeout after 5 s'
}

# ---- HTTP, foreground server (--listen)

@test "--listen serves curl on 127.0.0.1, gzip and OpenMetrics included" {
	base_fixture
	start_server --listen 127.0.0.1:0
	run curl_normalised "http://127.0.0.1:$PORT/metrics"
	assert_output "$(base_expected)"
	run curl_normalised --compressed -H "Accept: application/openmetrics-text" "http://127.0.0.1:$PORT/metrics"
	assert_output "$(base_expected_openmetrics)"
	run curl -sS -o /dev/null -w '%{http_code} %{content_type}' -I "http://127.0.0.1:$PORT/"
	assert_output '200 text/html; charset=utf-8'
	run curl -sS -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/metrics"
	assert_output 405
}

@test "--listen serves IPv6 on [::1]" {
	ip -6 addr show dev lo | grep -q '::1' || skip "no IPv6 on lo"
	base_fixture
	start_server --listen '[::1]:0'
	run cat "$T/server.log"
	assert_output "texporter-read: info: listening on [::1]:$PORT"
	run curl -sS -o /dev/null -w '%{http_code}' "http://[::1]:$PORT/metrics"
	assert_output 200
}

@test "--listen with no address takes IPv4 and IPv6 on one port" {
	base_fixture
	# In a network namespace of its own, whose only interface is lo.
	run unshare --net bash -c '
		ip link set lo up
		: >"$2/server.log" # exists before the server opens it: the loop reads it
		"$0" --pin-root "$1" --listen :0 2>"$2/server.log" & pid=$!
		for _ in $(seq 50); do
			port=$(sed -nE "s/.*listening on \[::\]:([0-9]+)$/\1/p" "$2/server.log")
			[ -n "$port" ] && break; sleep 0.1
		done
		curl -sS -o /dev/null -w "%{http_code} " "http://127.0.0.1:$port/metrics"
		curl -sS -o /dev/null -w "%{http_code}" "http://[::1]:$port/metrics"
		kill $pid; wait $pid' "$READER" "$PINS" "$T"
	assert_success
	assert_output '200 200'
}

# In a network namespace of its own, whose only interface is lo: the
# reader with ARGS on port 2112 there, and curl's status codes for each
# URL of the rest, after "--".
serve_in_own_netns() {
	unshare --net bash -c '
		ip link set lo up
		reader=$1 pins=$2 t=$3; shift 3
		args=(); while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
		: >"$t/server.log"
		"$reader" --pin-root "$pins" "${args[@]}" 2>"$t/server.log" & pid=$!
		for _ in $(seq 50); do grep -q "listening on" "$t/server.log" && break; sleep 0.1; done
		for url; do curl -sS -o /dev/null -w "%{http_code} " "$url"; done
		kill $pid; wait $pid' _ "$READER" "$PINS" "$T" "$@"
}

@test "--listen localhost serves 127.0.0.1 and ::1" {
	base_fixture
	run serve_in_own_netns --listen localhost:2112 -- \
		http://127.0.0.1:2112/metrics "http://[::1]:2112/metrics"
	assert_output '200 200 '
	run grep -c 'listening on' "$T/server.log"
	assert_output 2
}

@test "--listen with a host name is a usage error (exit 2) naming the numeric forms" {
	run read_pins --listen metrics.example.org:2112
	assert_failure 2
	assert_line 'texporter-read: error: --listen: bad value "metrics.example.org:2112": "metrics.example.org" is not a numeric address: texporter-read resolves no host names but localhost; give an IPv4 address (0.0.0.0:2112), an IPv6 one in brackets ([::1]:2112), or just :PORT for every address'
	run read_pins --web.listen-address '[fe80::1%txnosuch0]:2112'
	assert_failure 2
	assert_line --partial 'no interface "txnosuch0" for the zone of fe80::1'
}

@test "--port N, the original texporter's flag, listens on :N" {
	base_fixture
	run serve_in_own_netns --port 2112 -- http://127.0.0.1:2112/metrics "http://[::1]:2112/metrics"
	assert_output '200 200 '
	run cat "$T/server.log"
	assert_line "texporter-read: info: listening on [::]:2112"
	run read_pins --port 65536
	assert_failure 2
	assert_line 'texporter-read: error: --port: bad value "65536": use a whole number from 0 to 65535'
	run read_pins --port :2112
	assert_failure 2
}

@test "--listen: slow clients get 408 while others are served" {
	base_fixture
	start_server --listen 127.0.0.1:0
	/usr/bin/python3 "$CLIENT" slow 127.0.0.1 "$PORT" >"$T/slow" &
	sleep 0.5
	run curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/metrics"
	assert_output 200
	wait $!
	run cat "$T/slow"
	assert_output 'HTTP/1.1 408 Request Timeout after 5 s'
}

@test "--listen: oversized and malformed requests are refused over TCP too" {
	start_server --listen 127.0.0.1:0
	run raw_request_status "GET /metrics HTTP/1.1\r\nX: $(printf '%08200d' 0)\r\n\r\n"
	assert_output 'HTTP/1.1 431 Request Header Fields Too Large'
	run raw_request_status "GET /$(printf '%08200d' 0) HTTP/1.1\r\n\r\n"
	assert_output 'HTTP/1.1 414 URI Too Long'
	run raw_request_status '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'
	assert_output 'HTTP/1.1 400 Bad Request'
}

@test "--listen survives 10,000 connections and 200 slow ones in bounded memory" {
	[ -z "$SANITIZED" ] || skip "ASan's shadow memory is beyond the 16 MiB bound"
	base_fixture
	# 200 slow clients from one address: no per-source limit here.
	start_server --listen 127.0.0.1:0 --web.max-connections-per-source 0
	run /usr/bin/python3 "$CLIENT" stress 127.0.0.1 "$PORT" "$SERVER_PID"
	assert_success
	assert_output 'sequential: 10000 of 10000 answered 200
scrape during 200 slow clients: 200 in under 1 s
slow clients answered 408: 200 of 200
peak memory under 16 MiB: True'
}

# 1,023 names, the most an interface holds, and a little traffic.
names_1023_fixture() {
	{
		echo "iface eth0 capacity=1024"
		echo "meta ranges=1023"
		echo "name 0 other"
		for i in $(seq 1 1022); do echo "name $i r$i"; done
		for i in $(seq 1 40); do echo "count 4 $i $((1022 - i)) $((i * 100)) $i"; done
	} | fixture
}

@test "--listen: 40 concurrent scrapes of 1,023 names are all answered, alike" {
	names_1023_fixture
	start_server --listen 127.0.0.1:0
	run /usr/bin/python3 "$CLIENT" concurrent 127.0.0.1 "$PORT" 40
	assert_success
	assert_line 'answered 200: 40 of 40'
	assert_line '200 bodies alike: True'
	run curl -sS "http://127.0.0.1:$PORT/metrics"
	assert_equal "$(grep -c '^texporter_captured' <<<"$output")" 80
}

@test "--listen: --web.max-requests answers 503 beyond the cap, and serves again after" {
	fixture <<'EOF'
iface eth0 capacity=256
fill 158
EOF
	start_server --listen 127.0.0.1:0 --web.max-requests 2
	run /usr/bin/python3 "$CLIENT" cap 127.0.0.1 "$PORT" 2
	assert_success
	assert_output 'held: HTTP/1.1 200
held: HTTP/1.1 200
one more: 503 Limit of concurrent requests reached (2), try again later.
held ones read in full: 2 of 2'
	run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"
	assert_output 200
}

@test "--web.max-requests and --web.max-connections-per-source take whole numbers" {
	run read_pins --listen 127.0.0.1:0 --web.max-requests many
	assert_failure 2
	assert_line --index 0 'texporter-read: error: --web.max-requests: bad value "many": use a whole number from 0 to 1000000'
	run read_pins --listen 127.0.0.1:0 --web.max-connections-per-source -1
	assert_failure 2
}

@test "--listen: 1,500 idle and slowloris connections do not lock a scraper out" {
	base_fixture
	start_server --listen 127.0.0.1:0
	run /usr/bin/python3 "$CLIENT" flood 127.0.0.1 "$PORT" 1500 "$SERVER_PID"
	assert_success
	assert_line 'scrapes during the flood: 200 200 200 200 200'
}

@test "--listen: --web.max-connections-per-source closes more connections from one address at once" {
	base_fixture
	start_server --listen 127.0.0.1:0 --web.max-connections-per-source 16 -l debug
	run /usr/bin/python3 "$CLIENT" flood 127.0.0.1 "$PORT" 200 "$SERVER_PID" 2
	assert_success
	assert_line 'scrapes during the flood: 200 200 200 200 200'
	grep -q 'over 16 connections from one address, closed' "$T/server.log"
}

@test "--listen: slow readers of a multi-megabyte exposition all get it whole" {
	fixture <<'EOF'
iface eth0 capacity=256
fill 100
EOF
	start_server --listen 127.0.0.1:0
	run /usr/bin/python3 "$CLIENT" slowreaders 127.0.0.1 "$PORT" 30 "$SERVER_PID"
	assert_success
	assert_line 'answered in full: 30 of 30'
	assert_line 'bodies alike: True'
	local bytes=$(sed -nE 's/^body bytes: //p' <<<"$output")
	[ "$bytes" -gt 2000000 ]
}

@test "--listen exits 0 on SIGTERM and on SIGINT" {
	start_server --listen 127.0.0.1:0
	local rc=0
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || rc=$?
	[ "$rc" -eq 0 ]
	run tail -1 "$T/server.log"
	assert_output 'texporter-read: info: stopping on Terminated'

	start_server --listen 127.0.0.1:0
	kill -INT "$SERVER_PID"
	wait "$SERVER_PID" || rc=$?
	[ "$rc" -eq 0 ]
	run tail -1 "$T/server.log"
	assert_output 'texporter-read: info: stopping on Interrupt'
}

@test "--listen on a port in use exits 1 and says so" {
	start_server --listen 127.0.0.1:0
	run read_pins --listen "127.0.0.1:$PORT"
	assert_failure 1
	assert_line "texporter-read: error: cannot listen on 127.0.0.1:$PORT: Address already in use"
}

@test "a listening socket on stdin is served until SIGTERM (systemd Accept=no)" {
	base_fixture
	start_socket_activate --inetd "$READER" --pin-root "$PINS"
	local port=$PORT
	for _ in 1 2 3; do
		run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics"
		assert_output 200
	done
	run grep -c 'serving the listening socket on stdin' "$T/ssa.log"
	assert_output 1
}

# ---- scale

@test "100,000 series in one scrape" {
	fixture <<'EOF'
iface eth0 capacity=256
fill 158
EOF
	read_pins >"$T/out"
	run grep -c '^texporter_captured' "$T/out"
	assert_output 99856
	run inetd_request 'GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n'
	assert_success
	run head -1 "$T/resp.head"
	assert_output 'HTTP/1.1 200 OK'
}
