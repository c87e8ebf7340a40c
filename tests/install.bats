#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# The Debian package on this machine: what `dpkg -i` puts in place, what
# `dpkg -r` and `dpkg -P` take away again (the interfaces loaded under the
# default pin root included), and the three ways of serving the installed
# reader, each run from the command line its shipped file holds:
# texporter-read@.service under systemd-socket-activate, the textfile unit
# with node_exporter reading its file, and the inetd.conf line under
# openbsd-inetd. There is no systemd as PID 1 here (nor in CI), and
# policy-rc.d denies service starts.
#
# Every test installs the package in setup and purges it in teardown, pass
# or fail, and counts real traffic on its own veth pair (helpers.bash).
# Servers listen on 127.0.0.1 only, on free ports, and die in teardown.
# The package and its texporter account are machine-wide: do not run this
# file twice at the same time. It refuses to run (skips) where texporter is
# already installed, its account exists, or something is pinned under the
# default pin root, since a purge would take those away.

load helpers

PACKAGE=texporter
DEFAULT_PIN_ROOT=/sys/fs/bpf/texporter
UNIT_DIR=/lib/systemd/system
UNITS=(texporter-load@.service texporter-read.socket texporter-read@.service
	texporter-textfile.service texporter-textfile.timer)

# --- preconditions and the package, once per file ---------------------------

# Why this file cannot run here, or nothing.
install_blocker() {
	local tool
	for tool in dpkg dpkg-deb dpkg-shlibdeps curl systemd-socket-activate \
		systemd-analyze prometheus-node-exporter unshare setpriv strace bpftool; do
		command -v "$tool" >/dev/null || {
			echo "$tool is not installed (sudo make deps)"
			return
		}
	done
	if [[ -n ${OWN_INSTALL:-} ]] && dpkg -s "$PACKAGE" >/dev/null 2>&1; then
		echo "texporter is installed on this machine; these tests install and purge it"
	elif getent passwd texporter >/dev/null || getent group texporter >/dev/null; then
		echo "a texporter user or group exists already; the package's purge would delete it"
	fi
}

# Installs what the package Depends on and is missing, by name.
install_missing_depends() {
	local dep missing=()
	for dep in $(dpkg-deb -f "$DEB" Depends | tr ',|' '\n\n' | sed 's/(.*)//; s/:.*//' | tr -d ' '); do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$dep" 2>/dev/null) == installed ]] ||
			missing+=("$dep")
	done
	((${#missing[@]} == 0)) && return 0
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

setup_file() {
	INSTALL_SKIP=$(install_blocker)
	DEB=$BATS_FILE_TMPDIR/texporter.deb
	export INSTALL_SKIP DEB
	[[ -z $INSTALL_SKIP ]] || return 0
	# `make deb`, into this file's own directory (as tests/packaging.bats
	# does), so build/ only ever holds what `make` put there.
	make -C "$TX_REPO" --no-print-directory BUILD="$BUILD" deb \
		DEB_STAGE="$BATS_FILE_TMPDIR/stage" DEB_FILE="$DEB" >/dev/null
	install_missing_depends ||
		INSTALL_SKIP="the package's dependencies are missing and apt-get cannot install them"
}

# --- per test ---------------------------------------------------------------

setup() {
	# What teardown may undo: only what this test did.
	OWN_INSTALL=''
	SCRATCH=''
	SCRATCH_BPFFS=''
	DEFAULT_PIN_ROOT_EXISTED=1
	NS_A=''
	[[ -z $INSTALL_SKIP ]] || skip "$INSTALL_SKIP"
	# prerm detaches whatever is under the default pin root: never ours
	# to take unless this test put it there.
	if [[ -d $DEFAULT_PIN_ROOT ]] && [[ -n $(find "$DEFAULT_PIN_ROOT" -mindepth 1 -print -quit) ]]; then
		skip "$DEFAULT_PIN_ROOT holds pins; purging the package would detach them"
	fi
	[[ -d $DEFAULT_PIN_ROOT ]] || DEFAULT_PIN_ROOT_EXISTED=
	tx_setup_bpffs
	tx_setup_pair
	CONFIG=$BATS_TEST_TMPDIR/ranges.json
	tx_write_config "$CONFIG" "lan=$IP4_A,$IP6_A" "peer=$IP4_B,$IP6_B"
	install_package
}

teardown() {
	# Servers first: they run the package's binaries, some as its user.
	tx_kill_processes 2>/dev/null || true
	if [[ -n ${OWN_INSTALL:-} ]] && dpkg -s "$PACKAGE" >/dev/null 2>&1; then
		dpkg -P "$PACKAGE" >/dev/null 2>&1 || echo "teardown: dpkg -P $PACKAGE failed" >&2
	fi
	# Had the purge not detached our interface, the build's loader does.
	if [[ -n ${NS_A:-} && -d $DEFAULT_PIN_ROOT/$IF_A ]]; then
		tx_in "$NS_A" "$BUILD/texporter-load" --pin-root "$DEFAULT_PIN_ROOT" \
			-i "$IF_A" --detach >/dev/null 2>&1 || true
	fi
	if [[ -z ${DEFAULT_PIN_ROOT_EXISTED:-1} && -d $DEFAULT_PIN_ROOT ]]; then
		rmdir "$DEFAULT_PIN_ROOT" 2>/dev/null || true
	fi
	tx_teardown
	if [[ -n ${SCRATCH_BPFFS:-} ]] && mountpoint -q "$SCRATCH_BPFFS"; then
		umount "$SCRATCH_BPFFS" 2>/dev/null || umount -l "$SCRATCH_BPFFS" || true
	fi
	if [[ -n ${SCRATCH:-} ]]; then
		rm -rf "$SCRATCH"
	fi
}

install_package() {
	OWN_INSTALL=1
	run dpkg -i "$DEB"
	assert_success
}

# A scratch directory under /tmp that users other than root may traverse
# (Bats' own are 0700): for node_exporter's and inetd's unprivileged reads.
make_scratch() {
	SCRATCH=$(mktemp -d /tmp/texporter-install.XXXXXX)
	chmod 0755 "$SCRATCH"
}

# A background server in the root namespace, killed in teardown.
start_server() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 3>&- &
	TX_BG_PIDS+=("$!")
}

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

listening() {
	[[ -n $(ss -Hltn "sport = :$1") ]]
}

# The value of KEY= in a unit file (the last one, as systemd reads it).
unit_value() {
	sed -n "s/^$2=//p" "$UNIT_DIR/$1" | tail -n 1
}

# The installed loader on IF_A in NS_A; with the texporter group in place,
# it gives the pins to that group (0750 directory, 0440 maps).
load_a() {
	run tx_in "$NS_A" /usr/sbin/texporter-load -i "$IF_A" -f "$CONFIG" "$@"
	assert_success
	assert_output --partial "$IF_A: attached: "
}

# Real traffic through IF_A: 3 IPv4 pings of 100 data bytes (3 x 128 L3
# bytes each way) and 2 IPv6 pings of 100 (2 x 148 each way).
ping_b() {
	run tx_in "$NS_A" ping -q -c 3 -s 100 -i 0.05 -W 2 "$IP4_B"
	assert_success
	assert_output --partial '3 packets transmitted, 3 received,'
	run tx_in "$NS_A" ping -q -c 2 -s 100 -i 0.05 -W 2 "$IP6_B"
	assert_success
	assert_output --partial '2 packets transmitted, 2 received,'
}

# The traffic series of ping_b in texporter-read's order, exactly.
expected_counts() {
	cat <<-EOF
	texporter_captured_bytes_total{iface="$IF_A",family="ipv4",src="lan",dst="peer"} 384
	texporter_captured_bytes_total{iface="$IF_A",family="ipv4",src="peer",dst="lan"} 384
	texporter_captured_bytes_total{iface="$IF_A",family="ipv6",src="lan",dst="peer"} 296
	texporter_captured_bytes_total{iface="$IF_A",family="ipv6",src="peer",dst="lan"} 296
	texporter_captured_packets_total{iface="$IF_A",family="ipv4",src="lan",dst="peer"} 3
	texporter_captured_packets_total{iface="$IF_A",family="ipv4",src="peer",dst="lan"} 3
	texporter_captured_packets_total{iface="$IF_A",family="ipv6",src="lan",dst="peer"} 2
	texporter_captured_packets_total{iface="$IF_A",family="ipv6",src="peer",dst="lan"} 2
	EOF
}

# curl http://127.0.0.1:PORT/metrics: status 200, Prometheus text, and
# exactly the series of ping_b.
assert_scrape_counts() {
	local port=$1
	run curl -sS --max-time 10 -o "$BATS_TEST_TMPDIR/body" \
		-w '%{http_code} %{content_type}' "http://127.0.0.1:$port/metrics"
	assert_success
	assert_output '200 text/plain; version=0.0.4; charset=utf-8'
	run grep '^texporter_captured_' "$BATS_TEST_TMPDIR/body"
	assert_output "$(expected_counts)"
	run grep -c "^texporter_build_info{version=\"$(cat "$TX_REPO/VERSION")\"," "$BATS_TEST_TMPDIR/body"
	assert_output 1
}

# "kind id" of every BPF link texporter pinned for IF_A under ROOT, and of
# the program each one runs.
pinned_objects() {
	local root=$1 pin
	for pin in "$root/$IF_A"/link_*; do
		[[ -e $pin ]] || continue
		bpftool -j link show pinned "$pin" | "$PYTHON" -c '
import json, sys
link = json.load(sys.stdin)
print("link", link["id"])
print("prog", link["prog_id"])'
	done
}

bpf_object_gone() {
	! bpftool "$1" show id "$2" >/dev/null 2>&1
}

# What bpfattached.py sees on IF_A, and the legacy tc filters.
attachments_a() {
	tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/bpfattached.py" "$IF_A"
	echo "tc ingress: $(tx_in "$NS_A" tc filter show dev "$IF_A" ingress | tr '\n' ' ')"
	echo "tc egress: $(tx_in "$NS_A" tc filter show dev "$IF_A" egress | tr '\n' ' ')"
}

# Every regular file and symlink of the package, as installed paths.
package_files() {
	dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print substr($6, 2) }'
}

# Those of them that are on this machine.
present_package_files() {
	local file
	for file in $(package_files); do
		if [[ -e $file || -L $file ]]; then
			echo "$file"
		fi
	done
}

# --- dpkg -i, -r, -P --------------------------------------------------------

@test "dpkg -i puts the binaries on PATH, creates the texporter account, installs units and conffiles" {
	run dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$PACKAGE"
	assert_output "ii $(cat "$TX_REPO/VERSION")"
	run dpkg --verify "$PACKAGE"
	assert_success
	assert_output ''

	run command -v texporter-load texporter-read texporter-update-ranges
	assert_output - <<-'EOF'
	/usr/sbin/texporter-load
	/usr/bin/texporter-read
	/usr/sbin/texporter-update-ranges
	EOF
	run texporter-read --version
	assert_success
	assert_output --regexp "^texporter-read $(cat "$TX_REPO/VERSION") \(revision "

	# A system account without home or shell, in a group of its own.
	local uid gid
	run getent group texporter
	assert_success
	assert_output --regexp '^texporter:x:[0-9]+:$'
	gid=$(cut -d: -f3 <<<"$output")
	run getent passwd texporter
	assert_success
	assert_output --regexp "^texporter:x:[0-9]+:$gid:texporter metrics reader(,,,)?:/nonexistent:/usr/sbin/nologin\$"
	uid=$(cut -d: -f3 <<<"$output")
	((uid < 1000 && gid < 1000)) || fail "not a system account: uid $uid, gid $gid"
	assert [ ! -e /nonexistent ]

	# The units, as shipped, and accepted by systemd with the installed
	# binaries.
	run bash -c "find '$UNIT_DIR' -maxdepth 1 -name 'texporter*' -type f -printf '%f %m %u:%g\n' | LC_ALL=C sort"
	assert_output "$(printf '%s 644 root:root\n' "${UNITS[@]}" | LC_ALL=C sort)"
	# The original texporter's unit name, a link to the loader's.
	assert_equal "$(readlink "$UNIT_DIR/texporter@.service")" texporter-load@.service
	local unit
	for unit in "${UNITS[@]}"; do
		cmp "$TX_REPO/systemd/$unit" "$UNIT_DIR/$unit"
		run systemd-analyze verify --man=no "$UNIT_DIR/$unit"
		assert_success
		assert_output ''
	done

	# The conffiles, with the defaults, and a config the loader accepts.
	run bash -c "dpkg-query -W -f='\${Conffiles}\n' $PACKAGE | awk 'NF { print \$1 }'"
	assert_output - <<-'EOF'
	/etc/default/texporter
	/etc/texporter/config.json
	/etc/texporter/static.json
	EOF
	cmp "$TX_REPO/scripts/config.default.json" /etc/texporter/config.json
	cmp "$TX_REPO/scripts/config.default.json" /etc/texporter/static.json
	cmp "$TX_REPO/scripts/texporter.default" /etc/default/texporter
	run texporter-load --check -f /etc/texporter/config.json
	assert_success
}

@test "dpkg -r removes binaries and units but keeps conffiles and the account; dpkg -P removes the rest" {
	local textfile=/var/lib/prometheus/node-exporter/texporter.prom made_textfile=
	# Local state the package did not ship: a changed conffile, a
	# per-interface setting, and the textfile the timer would write.
	echo 'TEXPORTER_LOAD_OPTS="--ingress tc"' >>/etc/default/texporter
	cp /etc/default/texporter "$BATS_TEST_TMPDIR/default.changed"
	echo 'TEXPORTER_LOAD_OPTS="--xdp-mode generic"' >/etc/texporter/txa0.env
	if [[ -d ${textfile%/*} && ! -e $textfile ]]; then
		echo 'texporter_build_info 1' >"$textfile"
		made_textfile=1
	fi

	run dpkg -r "$PACKAGE"
	assert_success
	run dpkg-query -W -f='${db:Status-Abbrev}' "$PACKAGE"
	assert_output 'rc '
	run command -v texporter-load texporter-read texporter-update-ranges
	assert_failure
	assert_output ''
	local conffiles=$'/etc/default/texporter\n/etc/texporter/config.json\n/etc/texporter/static.json'
	run present_package_files
	assert_output "$conffiles"
	cmp "$BATS_TEST_TMPDIR/default.changed" /etc/default/texporter
	assert [ -e /etc/texporter/txa0.env ]
	run find "$UNIT_DIR" -maxdepth 1 -name 'texporter*'
	assert_output ''
	getent passwd texporter >/dev/null || fail "dpkg -r deleted the texporter user"
	getent group texporter >/dev/null || fail "dpkg -r deleted the texporter group"
	if [[ -n $made_textfile ]]; then
		assert [ ! -e "$textfile" ]
	fi

	run dpkg -P "$PACKAGE"
	assert_success
	run dpkg -s "$PACKAGE"
	assert_failure
	run present_package_files
	assert_output ''
	assert [ ! -e /etc/texporter ]
	assert [ ! -e /usr/share/doc/texporter ]
	run getent passwd texporter
	assert_failure
	run getent group texporter
	assert_failure
}

@test "dpkg -P detaches an interface loaded by hand under the default pin root" {
	# The installed loader with its default pin root, on the test's own
	# interface inside its namespace; /sys/fs/bpf/texporter is global, so
	# teardown detaches IF_A there should the purge not.
	load_a
	assert [ -d "$DEFAULT_PIN_ROOT/$IF_A" ]
	assert_equal "$(stat -c '%a %U:%G' "$DEFAULT_PIN_ROOT/$IF_A")" '750 root:texporter'
	local expected_tcx='tcx_ingress 0 tcx_egress 1' expected_egress=''
	if [[ $(tx_default_tc_mode) == legacy ]]; then
		expected_tcx='tcx_ingress 0 tcx_egress 0'
		expected_egress=$(tx_in "$NS_A" tc filter show dev "$IF_A" egress | tr '\n' ' ')
		[[ -n $expected_egress ]] || fail "no legacy egress filter"
	fi
	run attachments_a
	assert_output - <<-EOF
	xdp 1 $expected_tcx
	tc ingress: 
	tc egress: $expected_egress
	EOF
	local objects
	objects=$(pinned_objects "$DEFAULT_PIN_ROOT")
	[[ -n $objects ]] || fail "no links pinned under $DEFAULT_PIN_ROOT/$IF_A"

	# prerm runs in the root namespace, where IF_A does not exist: the
	# links go with their pins all the same.
	run dpkg -P "$PACKAGE"
	assert_success
	assert_output --partial "$IF_A: detached"
	refute_output --partial 'could not detach'

	assert [ ! -e "$DEFAULT_PIN_ROOT/$IF_A" ]
	if [[ -d $DEFAULT_PIN_ROOT ]]; then
		run find "$DEFAULT_PIN_ROOT" -mindepth 1
		assert_output ''
	fi
	run attachments_a
	assert_output - <<-'EOF'
	xdp 0 tcx_ingress 0 tcx_egress 0
	tc ingress: 
	tc egress: 
	EOF
	local kind id
	while read -r kind id; do
		tx_wait_until 5 bpf_object_gone "$kind" "$id" || fail "$kind $id outlived the purge"
	done <<<"$objects"
	run getent group texporter
	assert_failure
}

# --- the ways of serving the installed reader -------------------------------

# BindReadOnlyPaths=SRC:DST, User= and Group= of a unit, by hand (there is
# no systemd to do it): in a private mount namespace, a tmpfs over DST's
# parent, SRC bound read-only onto DST, then the command as USER:GROUP with
# no capabilities.
write_unit_sandbox() {
	cat >"$1" <<-'EOF'
	#!/bin/sh
	set -e
	src=$1 dst=$2 user=$3 group=$4
	shift 4
	mount -t tmpfs -o mode=0755 tmpfs "$(dirname "$dst")"
	mkdir "$dst"
	mount --bind "$src" "$dst"
	mount -o remount,bind,ro "$dst"
	exec setpriv --reuid="$user" --regid="$group" --init-groups \
		--inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
	EOF
	chmod 0755 "$1"
}

@test "texporter-read@.service's command line serves exact counts under systemd-socket-activate" {
	load_a --pin-root "$PIN_ROOT"
	ping_b

	# The unit's command line, as installed, word for word.
	local unit=texporter-read@.service exec_start bind src dst user group
	exec_start=$(unit_value "$unit" ExecStart)
	assert_equal "$exec_start" '/usr/bin/texporter-read --inetd --pin-root /run/texporter'
	[[ $exec_start =~ ^[A-Za-z0-9/._\ -]+$ ]] || fail "ExecStart needs systemd's quoting: $exec_start"
	local -a command
	read -r -a command <<<"$exec_start"
	# The pin root it names is where BindReadOnlyPaths= puts the loader's
	# default pin root.
	bind=$(unit_value "$unit" BindReadOnlyPaths)
	bind=${bind#-}
	src=${bind%%:*} dst=${bind#*:}
	assert_equal "$src" "$DEFAULT_PIN_ROOT"
	assert_equal "${command[*]: -2}" "--pin-root $dst"
	user=$(unit_value "$unit" User) group=$(unit_value "$unit" Group)
	assert_equal "$user:$group" 'texporter:texporter'

	# Without systemd, the bind mount and the user are done by hand, with
	# one substitution: the bound tree is this test's private pin root,
	# not /sys/fs/bpf/texporter. The reader's own command line is
	# unchanged: it reads /run/texporter, as the service's does.
	local sandbox=$BATS_TEST_TMPDIR/unit-sandbox port
	write_unit_sandbox "$sandbox"
	port=$(free_port)
	start_server "$BATS_TEST_TMPDIR/ssa.log" systemd-socket-activate --inetd -a \
		-l "127.0.0.1:$port" /usr/bin/unshare --mount --propagation private \
		"$sandbox" "$PIN_ROOT" "$dst" "$user" "$group" "${command[@]}"
	tx_wait_until 5 grep -q '^Listening on ' "$BATS_TEST_TMPDIR/ssa.log" ||
		fail "systemd-socket-activate: $(cat "$BATS_TEST_TMPDIR/ssa.log")"

	assert_scrape_counts "$port"
	# A second connection is a second reader: the same counts.
	assert_scrape_counts "$port"
}

@test "texporter-textfile.service's command line writes the file atomically and node_exporter serves it" {
	load_a --pin-root "$PIN_ROOT"
	ping_b
	make_scratch

	local unit=texporter-textfile.service exec_start dir
	exec_start=$(unit_value "$unit" ExecStart)
	assert_equal "$exec_start" '/usr/bin/texporter-read --textfile /var/lib/prometheus/node-exporter/texporter.prom'
	local -a command
	read -r -a command <<<"$exec_start"
	# The directory it writes to is the one the unit waits for and may
	# write.
	dir=${command[2]%/*}
	assert_equal "$(unit_value "$unit" ConditionPathIsDirectory)" "$dir"
	assert_equal "$(unit_value "$unit" ReadWritePaths)" "$dir"
	assert_equal "$(unit_value "$unit" UMask)" 0022

	# Substituted: the output directory by a test directory, and the pin
	# root (the unit reads the default /sys/fs/bpf/texporter) by the
	# test's private one, appended. The unit runs it as root with
	# UMask=0022.
	local textdir=$SCRATCH/textfile textfile
	mkdir -m 0755 "$textdir"
	textfile=$textdir/${command[2]##*/}
	command[2]=$textfile
	# A previous run's file, which the new one replaces.
	echo 'texporter_build_info{version="old",revision="old"} 1' >"$textfile"
	run bash -c "umask 0022 && exec strace -f -qq -o '$BATS_TEST_TMPDIR/trace' \
		-e trace=%file \
		${command[*]} --pin-root '$PIN_ROOT'"
	assert_success
	assert_output ''

	# Atomic: written under another name in the same directory, then
	# renamed over the old file, which is never opened for writing.
	run grep -E "^[0-9]+ +rename(at2?)?\(.*\"$textfile\"" "$BATS_TEST_TMPDIR/trace"
	assert_success
	assert_equal "${#lines[@]}" 1
	local temp
	temp=$(sed -E 's/^[^"]*"([^"]*)".*/\1/' <<<"${lines[0]}")
	[[ $temp == "$textdir"/* && $temp != "$textfile" ]] || fail "renamed from $temp"
	run grep -F "\"$textfile\"" "$BATS_TEST_TMPDIR/trace"
	assert_equal "${#lines[@]}" 1
	run ls -A "$textdir"
	assert_output "${textfile##*/}"
	assert_equal "$(stat -c '%a %U:%G' "$textfile")" '644 root:root'
	run grep '^texporter_captured_' "$textfile"
	assert_output "$(expected_counts)"

	# node_exporter (as nobody: the file is world-readable) serves it.
	local port
	port=$(free_port)
	start_server "$BATS_TEST_TMPDIR/node-exporter.log" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory "$textdir" --web.listen-address "127.0.0.1:$port"
	tx_wait_until 10 listening "$port" ||
		fail "node_exporter: $(cat "$BATS_TEST_TMPDIR/node-exporter.log")"
	run curl -sS --max-time 10 -o "$BATS_TEST_TMPDIR/node" -w '%{http_code}' \
		"http://127.0.0.1:$port/metrics"
	assert_output 200
	run grep -E '^node_textfile_(scrape_error|mtime_seconds)' "$BATS_TEST_TMPDIR/node"
	assert_line --index 0 --regexp "^node_textfile_mtime_seconds\{file=\"($textfile|texporter.prom)\"\} [0-9.e+]+\$"
	assert_line --index 1 'node_textfile_scrape_error 0'
	assert_equal "${#lines[@]}" 2
	# node_exporter sorts the labels by name, and the series by them.
	run grep '^texporter_captured_' "$BATS_TEST_TMPDIR/node"
	assert_output "$(expected_counts |
		sed -E 's/\{iface="([^"]*)",family="([^"]*)",src="([^"]*)",dst="([^"]*)"\}/{dst="\4",family="\2",iface="\1",src="\3"}/' |
		LC_ALL=C sort)"
}

@test "the inetd.conf line serves exact counts under openbsd-inetd, as user texporter" {
	[[ $(dpkg-query -W -f='${db:Status-Status}' openbsd-inetd 2>/dev/null) == installed ]] ||
		skip "openbsd-inetd is not installed (sudo make deps)"
	# The installed example is scripts/inetd.conf, its paths already
	# Debian's.
	local example=/usr/share/doc/texporter/examples/inetd.conf
	cmp "$TX_REPO/scripts/inetd.conf" "$example"

	# As the example's comment says, texporter cannot traverse the 0700
	# /sys/fs/bpf of a systemd host, so this follows deployment.md's
	# second way: a bpffs of its own, mode 0755, as the pin root of both
	# halves. (The pair's private bpffs lies below Bats' 0700 directories.)
	make_scratch
	SCRATCH_BPFFS=$SCRATCH/bpffs
	mkdir "$SCRATCH_BPFFS"
	mount -t bpf -o mode=0755 bpf "$SCRATCH_BPFFS"
	load_a --pin-root "$SCRATCH_BPFFS"
	assert_equal "$(stat -c '%a %U:%G' "$SCRATCH_BPFFS/$IF_A")" '750 root:texporter'
	ping_b

	# The example's IPv4 line, on 127.0.0.1 and a free port instead of
	# every address and 2112, with the pin root appended; the socket type,
	# protocol, nowait.40, texporter:texporter and the program stay.
	local port conf=$SCRATCH/inetd.conf
	port=$(free_port)
	awk -v port="$port" -v pins="$SCRATCH_BPFFS" '
		BEGIN { OFS = "\t" }
		/^#/ || NF == 0 || $3 != "tcp" { next }
		{ $1 = "127.0.0.1:" port; print $0, "--pin-root", pins }' "$example" >"$conf"
	run cat "$conf"
	assert_output "$(printf '127.0.0.1:%s\tstream\ttcp\tnowait.40\ttexporter:texporter\t/usr/bin/texporter-read\ttexporter-read\t--inetd\t--pin-root\t%s' "$port" "$SCRATCH_BPFFS")"

	# -d: debug, in the foreground.
	start_server "$BATS_TEST_TMPDIR/inetd.log" inetd -d "$conf"
	tx_wait_until 5 listening "$port" || fail "inetd: $(cat "$BATS_TEST_TMPDIR/inetd.log")"
	run grep -F "user:group=texporter:texporter" "$BATS_TEST_TMPDIR/inetd.log"
	assert_success

	assert_scrape_counts "$port"
	assert_scrape_counts "$port"
}
