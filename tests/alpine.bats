#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# The Alpine package (`make apk`) in a real Alpine userland: Alpine's
# minirootfs (apk-tools, busybox, musl), unpacked per test, where apk itself
# installs, upgrades and removes the package and its scripts run in busybox
# sh. Inside that root the static tools load texporter on the test's veth
# and read exact counts, the loader giving the pins to the root's own
# texporter group. The package's layout is checked byte by byte against the
# apk v2 format, with a parser of this file's own.
#
# OpenRC itself is not in the minirootfs and there is no network to add it
# (nor would openrc-run work without OpenRC as init: it keeps its state
# under /run/openrc and refuses to start services of a system it did not
# boot). So the init scripts run as openrc-run runs them, by hand: their
# conf.d files sourced, then the script, in busybox sh, with OpenRC's output
# helpers (ebegin, eend, einfo, ewarn, eerror) reduced to printing, and the
# function called; the reader's command line is started as supervise-daemon
# would start it, as its command_user.
#
# Every chroot runs in NS_A's network and in a mount namespace of its own
# (unshare), so that /proc, /dev, /sys and the bpffs mounted for it vanish
# with it, pass or fail; the Alpine root's /sys/fs/bpf is the test's private
# bpffs (tx_setup_bpffs), so the default pin root inside is PIN_ROOT
# outside. Nothing touches the host's /sys/fs/bpf or its interfaces.

load helpers

ALPINE_TARBALL=$TX_REPO/../shared/data/alpine-minirootfs-3.20.3-x86_64.tar.gz
VERSION=$(cat "$TX_REPO/VERSION")
# The build date of the test's packages, so that every file's time is known.
EPOCH=1700000000

# --- the packages, once per file -----------------------------------------------

# Why this file cannot run here, or nothing.
alpine_blocker() {
	local tool
	[[ -f $ALPINE_TARBALL ]] || {
		echo "no Alpine minirootfs at $ALPINE_TARBALL (shared/data beside the checkout)"
		return
	}
	for tool in unshare nsenter chroot curl bpftool strip gzip; do
		command -v "$tool" >/dev/null || {
			echo "$tool is not installed (sudo make deps)"
			return
		}
	done
}

# The static tools' directory of `make static` (a run with STATIC=1 hands
# them to the tests as BUILD already).
static_build() {
	if [[ $BUILD == */static ]]; then
		echo "$BUILD"
	else
		echo "$BUILD/static"
	fi
}

# make_apk RELEASE FILE: `make apk` into this file's own directory.
make_apk() {
	make -C "$TX_REPO" --no-print-directory apk STATIC_BUILD="$(static_build)" \
		APK_RELEASE="$1" APK_FILE="$2" APK_STAGE="$BATS_FILE_TMPDIR/stage" \
		SOURCE_DATE_EPOCH="$EPOCH" >/dev/null
}

setup_file() {
	ALPINE_SKIP=$(alpine_blocker)
	APK_R0=texporter-$VERSION-r0.apk
	APK_R1=texporter-$VERSION-r1.apk
	export ALPINE_SKIP APK_R0 APK_R1
	[[ -z $ALPINE_SKIP ]] || return 0
	make_apk 0 "$BATS_FILE_TMPDIR/$APK_R0"
	make_apk 1 "$BATS_FILE_TMPDIR/$APK_R1"
	# A second build of the first, for reproducibility.
	make_apk 0 "$BATS_FILE_TMPDIR/again.apk"
}

# --- per test ------------------------------------------------------------------

setup() {
	ROOT=''
	[[ -z $ALPINE_SKIP ]] || skip "$ALPINE_SKIP"
	tx_setup_bpffs
	tx_setup_pair
	ROOT=$BATS_TEST_TMPDIR/alpine
	mkdir "$ROOT"
	tar -xzf "$ALPINE_TARBALL" -C "$ROOT"
	# No network: without repositories, apk speaks only of the package.
	: >"$ROOT/etc/apk/repositories"
	cp "$BATS_FILE_TMPDIR/$APK_R0" "$BATS_FILE_TMPDIR/$APK_R1" "$ROOT/tmp/"
	write_openrc_run "$ROOT/tmp/openrc-run"
}

teardown() {
	tx_teardown
	# The mounts died with their namespaces; should one have escaped, it
	# goes before the tree, and rm never leaves the root's own file system.
	if [[ -n ${ROOT:-} && -d $ROOT ]]; then
		local mnt
		awk -v root="$ROOT/" 'index($5, root) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
			while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
		rm -rf --one-file-system "$ROOT"
	fi
}

# The commands run in the Alpine root: mounts, then chroot.
# shellcheck disable=SC2016 # expanded by the sh that runs it
ALPINE_ENTER='root=$1 bpffs=$2
shift 2
mount -t proc proc "$root/proc" &&
	mount --bind /dev "$root/dev" &&
	mount -t sysfs sysfs "$root/sys" &&
	mount --bind "$bpffs" "$root/sys/fs/bpf" || exit 125
case $1 in
--userspec=*) spec=$1; shift; exec chroot "$spec" "$root" "$@" ;;
esac
exec chroot "$root" "$@"'

# alpine [--userspec=USER:GROUP] COMMAND...: COMMAND in the Alpine root, in
# NS_A's network and a mount namespace of its own: /proc, /dev (bound), a
# sysfs of NS_A and the test's bpffs on /sys/fs/bpf. USER and GROUP are
# looked up in the Alpine root.
alpine() {
	tx_in "$NS_A" unshare --mount --propagation private -- \
		sh -c "$ALPINE_ENTER" alpine "$ROOT" "$TX_BPFFS" "$@"
}

apk_add() {
	run alpine apk add --allow-untrusted --no-network "/tmp/$1"
}

install_r0() {
	apk_add "$APK_R0"
	assert_success
}

# openrc-run as far as this file needs it: /tmp/openrc-run SERVICE FUNCTION
# sources /etc/conf.d/<script>, /etc/conf.d/SERVICE and
# /etc/init.d/SERVICE, as openrc-run does, and calls FUNCTION.
write_openrc_run() {
	cat >"$1" <<-'EOF'
	#!/bin/sh
	ebegin() { echo " * $* ..."; }
	eend() {
		[ "${1:-0}" -eq 0 ] && { echo " [ ok ]"; return 0; }
		echo " [ !! ]"
		return "$1"
	}
	einfo() { echo " * $*"; }
	ewarn() { echo " * $*" >&2; }
	eerror() { echo " * $*" >&2; }
	RC_SVCNAME=$1
	if [ "${RC_SVCNAME%%.*}" != "$RC_SVCNAME" ] && [ -e "/etc/conf.d/${RC_SVCNAME%%.*}" ]; then
		. "/etc/conf.d/${RC_SVCNAME%%.*}"
	fi
	[ -e "/etc/conf.d/$RC_SVCNAME" ] && . "/etc/conf.d/$RC_SVCNAME"
	. "/etc/init.d/$RC_SVCNAME"
	"$2"
	EOF
	chmod 0755 "$1"
}

# The static loader and reader inside the Alpine root, default pin root.
load_in_alpine() {
	run alpine /usr/sbin/texporter-load -i "$IF_A" -f /etc/texporter/config.json
	assert_success
	assert_output --partial "$IF_A: attached: "
}

read_in_alpine() {
	alpine "$@" /usr/bin/texporter-read
}

# Real traffic through IF_A, all of it "private" to "private" under the
# default config (10.0.0.0/8, fc00::/7): 3 IPv4 pings of 100 data bytes
# (128 L3 bytes, each way) and 2 IPv6 pings of 100 (148, each way).
ping_b() {
	tx_ping_b ipv4 3 100
	tx_ping_b ipv6 2 100
}

# The traffic series after TIMES rounds of ping_b, in the reader's order.
expected_counts() {
	local n=${1:-1}
	cat <<-EOF
	texporter_captured_bytes_total{iface="$IF_A",family="ipv4",src="private",dst="private"} $((n * 6 * 128))
	texporter_captured_bytes_total{iface="$IF_A",family="ipv6",src="private",dst="private"} $((n * 4 * 148))
	texporter_captured_packets_total{iface="$IF_A",family="ipv4",src="private",dst="private"} $((n * 6))
	texporter_captured_packets_total{iface="$IF_A",family="ipv6",src="private",dst="private"} $((n * 4))
	EOF
}

assert_counts() {
	local text=$1 rounds=${2:-1}
	run grep '^texporter_captured_' <<<"$text"
	assert_output "$(expected_counts "$rounds")"
}

# What the kernel has attached to IF_A: "xdp N tcx_ingress N tcx_egress N".
attachments_a() {
	tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/bpfattached.py" "$IF_A"
}

# Ids of the links pinned for IF_A.
link_ids() {
	local pin
	for pin in "$PIN_ROOT/$IF_A"/link_*; do
		[[ -e $pin ]] || continue
		bpftool -j link show pinned "$pin" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["id"])'
	done
}

link_gone() {
	! bpftool link show id "$1" >/dev/null 2>&1
}

# The installed package's files, as apk lists them, sorted.
package_files_sorted() {
	alpine apk info -L texporter | sed 1d | grep . | LC_ALL=C sort
}

# The GID of NAME in the Alpine root's /etc/group.
alpine_gid() {
	awk -F: -v name="$1" '$1 == name { print $3 }' "$ROOT/etc/group"
}

# --- the package's format --------------------------------------------------------

@test "the .apk is apk v2: a cut control tar, then the data tar its datahash names; root-owned, sorted, reproducible" {
	local apk=$BATS_FILE_TMPDIR/$APK_R0
	cmp "$apk" "$BATS_FILE_TMPDIR/again.apk"
	# An independent reading of the format, by zlib and tarfile.
	run "$PYTHON" - "$apk" "$EPOCH" <<-'EOF'
		import hashlib, io, sys, tarfile, zlib
		blob, epoch = open(sys.argv[1], "rb").read(), int(sys.argv[2])
		streams = []
		while blob:
		    d = zlib.decompressobj(31)
		    plain = d.decompress(blob)
		    streams.append((blob[:len(blob) - len(d.unused_data)], plain))
		    blob = d.unused_data
		print("streams", len(streams))
		(control_gz, control), (data_gz, data) = streams
		# Cut: the control tar ends with its last member, no zero blocks.
		print("control cut", control[-1024:] != bytes(1024))
		members = list(tarfile.open(fileobj=io.BytesIO(control + data)))
		names = [m.name for m in members]
		print("control", " ".join(names[:names.index(".post-deinstall") + 1]))
		info = dict(line.split(" = ", 1) for line in control[512:].split(b"\0")[0].decode().splitlines())
		print("datahash ok", info["datahash"] == hashlib.sha256(data_gz).hexdigest())
		print("pkginfo", info["pkgname"], info["pkgver"], info["arch"], info["license"],
		      info["depend"], info["builddate"] == str(epoch))
		tar = tarfile.open(fileobj=io.BytesIO(data))
		files = list(tar)
		size = bad = 0
		for m in files:
		    if (m.uid, m.gid, m.uname, m.gname, m.mtime) != (0, 0, "root", "root", epoch):
		        bad += 1
		    if m.isfile():
		        content = tar.extractfile(m).read()
		        size += len(content)
		        if m.pax_headers.get("APK-TOOLS.checksum.SHA1") != hashlib.sha1(content).hexdigest():
		            bad += 1
		paths = [m.name for m in files]
		print("entries bad", bad)
		print("sorted", paths == sorted(paths, key=lambda p: p.split("/")))
		print("size ok", info["size"] == str(size))
		print("systemd", [p for p in paths if "systemd" in p or p.endswith(".service")])
	EOF
	assert_success
	assert_output - <<-EOF
	streams 2
	control cut True
	control .PKGINFO .pre-install .post-upgrade .pre-deinstall .post-deinstall
	datahash ok True
	pkginfo texporter $VERSION-r0 $(uname -m) Apache-2.0 /bin/sh True
	entries bad 0
	sorted True
	size ok True
	systemd []
	EOF
}

@test "apk add installs the package: busybox sh runs its pre-install, which makes the texporter account; apk verify and audit are clean" {
	install_r0
	assert_line "(1/1) Installing texporter ($VERSION-r0)"
	assert_line "Executing texporter-$VERSION-r0.pre-install"
	refute_output --partial ERROR
	refute_output --partial WARNING
	run alpine apk info -e texporter
	assert_success
	assert_output texporter
	run alpine apk verify --allow-untrusted "/tmp/$APK_R0"
	assert_success
	assert_output "/tmp/$APK_R0: 0 - OK"
	# Every installed file against the checksum the package carries.
	run alpine apk audit --system
	assert_success
	assert_output ''

	# A system account without home or shell, in a group of its own.
	local gid
	gid=$(alpine_gid texporter)
	[[ -n $gid ]] || fail "no texporter group in the Alpine root"
	run grep '^texporter:' "$ROOT/etc/passwd"
	assert_output --regexp "^texporter:x:[0-9]{3}:$gid:texporter metrics reader:/nonexistent:/sbin/nologin\$"
	assert [ ! -e "$ROOT/nonexistent" ]

	# The files, where Alpine puts them; the static libraries' licences
	# are those make static collected.
	local licenses
	licenses=$(cd "$(static_build)" && find licenses -type f | LC_ALL=C sort | sed 's|^|usr/share/doc/texporter/|')
	run package_files_sorted
	assert_output "$(LC_ALL=C sort <<-EOF
	etc/conf.d/texporter-load
	etc/conf.d/texporter-read
	etc/default/texporter
	etc/init.d/texporter-load
	etc/init.d/texporter-read
	etc/texporter/config.json
	etc/texporter/static.json
	usr/bin/texporter-read
	usr/sbin/texporter-load
	usr/sbin/texporter-update-ranges
	usr/share/doc/texporter/architecture.md
	usr/share/doc/texporter/deployment.md
	usr/share/doc/texporter/examples/inetd.conf
	usr/share/doc/texporter/examples/texporter-read.xinetd
	usr/share/doc/texporter/examples/texporter.cron
	usr/share/doc/texporter/examples/web-config.yml
	usr/share/doc/texporter/grafana-dashboard.json
	usr/share/doc/texporter/prometheus.md
	usr/share/licenses/texporter/LICENSE
	usr/share/man/man8/texporter-load.8.gz
	usr/share/man/man8/texporter-read.8.gz
	usr/share/man/man8/texporter-update-ranges.8.gz
	$licenses
	EOF
	)"
	run stat -c '%a %U:%G %n' "$ROOT/usr/sbin/texporter-load" "$ROOT/etc/init.d/texporter-load" \
		"$ROOT/etc/conf.d/texporter-load" "$ROOT/etc/texporter/config.json"
	assert_output - <<-EOF
	755 root:root $ROOT/usr/sbin/texporter-load
	755 root:root $ROOT/etc/init.d/texporter-load
	644 root:root $ROOT/etc/conf.d/texporter-load
	644 root:root $ROOT/etc/texporter/config.json
	EOF
	cmp "$TX_REPO/scripts/config.default.json" "$ROOT/etc/texporter/config.json"
	# /etc/default/texporter: the updater's settings only.
	run grep -c '^#TEXPORTER_RANGES=' "$ROOT/etc/default/texporter"
	assert_output 1
	run grep -c 'TEXPORTER_LOAD_OPTS' "$ROOT/etc/default/texporter"
	assert_output 0

	# The static binaries run on musl's userland.
	run alpine /usr/bin/texporter-read --version
	assert_success
	assert_output --regexp "^texporter-read $VERSION \(revision "
	run alpine /usr/sbin/texporter-load --check -f /etc/texporter/config.json
	assert_success
	# Every script of the package parses in busybox sh.
	local script
	cp "$TX_REPO"/scripts/apk/texporter.* "$ROOT/tmp/"
	for script in /etc/init.d/texporter-load /etc/init.d/texporter-read \
		/etc/conf.d/texporter-load /etc/conf.d/texporter-read /tmp/texporter.pre-install \
		/tmp/texporter.pre-deinstall /tmp/texporter.post-deinstall /tmp/texporter.post-upgrade; do
		run alpine /bin/sh -n "$script"
		assert_success
		assert_output ''
	done
}

@test "pre-install keeps a texporter group and user that exist already" {
	run alpine addgroup -S -g 4242 texporter
	assert_success
	install_r0
	refute_output --partial ERROR
	assert_equal "$(alpine_gid texporter)" 4242
	run grep '^texporter:' "$ROOT/etc/passwd"
	assert_output --regexp '^texporter:x:[0-9]+:4242:'
	local before
	before=$(grep '^texporter:' "$ROOT/etc/passwd" "$ROOT/etc/group")
	# Removed and installed again: the account apk del left is reused.
	run alpine apk del texporter
	assert_success
	install_r0
	assert_equal "$(grep '^texporter:' "$ROOT/etc/passwd" "$ROOT/etc/group")" "$before"
}

# --- counting inside the Alpine root ---------------------------------------------

@test "the static loader counts exact traffic from the Alpine root; nobody reads it through the root's texporter group" {
	install_r0
	load_in_alpine
	# The pins belong to the Alpine root's texporter group, which the
	# loader found in that root's /etc/group.
	local gid
	gid=$(alpine_gid texporter)
	assert_equal "$(stat -c '%a %u:%g' "$PIN_ROOT/$IF_A")" "750 0:$gid"
	assert_equal "$(stat -c '%a %u:%g' "$PIN_ROOT/$IF_A/counters")" "440 0:$gid"
	ping_b

	run read_in_alpine --userspec=nobody:texporter
	assert_success
	assert_counts "$output"
	# Without the group, nobody is turned away, and told why.
	run read_in_alpine --userspec=nobody:nobody
	assert_failure
	refute_output --partial 'texporter_captured_bytes_total{'
	assert_output --partial "/sys/fs/bpf/texporter/$IF_A/meta: Permission denied"
	assert_output --partial "must be in the loader's --group group"
}

# --- the OpenRC scripts ----------------------------------------------------------

@test "texporter-load.IFACE (OpenRC): start loads with conf.d's options, reload keeps the counts, stop detaches" {
	install_r0
	ln -s texporter-load "$ROOT/etc/init.d/texporter-load.$IF_A"
	# The interface's own conf.d file adds its options to the common one.
	echo 'load_opts="--ingress tc"' >"$ROOT/etc/conf.d/texporter-load.$IF_A"

	run alpine /tmp/openrc-run "texporter-load.$IF_A" start
	assert_success
	assert_line " * Loading texporter on $IF_A ..."
	assert_output --partial "$IF_A: attached: "
	assert_line ' [ ok ]'
	assert [ -e "$PIN_ROOT/$IF_A/counters" ]
	run attachments_a
	assert_output 'xdp 0 tcx_ingress 1 tcx_egress 1'
	ping_b
	run read_in_alpine --userspec=texporter:texporter
	assert_counts "$output"

	run alpine /tmp/openrc-run "texporter-load.$IF_A" reload
	assert_success
	assert_line " * Reloading texporter on $IF_A ..."
	assert_line ' [ ok ]'
	ping_b
	run read_in_alpine --userspec=texporter:texporter
	assert_counts "$output" 2

	local ids
	ids=$(link_ids)
	[[ -n $ids ]] || fail "no links pinned for $IF_A"
	run alpine /tmp/openrc-run "texporter-load.$IF_A" stop
	assert_success
	assert_line " * Detaching texporter from $IF_A ..."
	assert_line ' [ ok ]'
	assert [ ! -e "$PIN_ROOT/$IF_A" ]
	run attachments_a
	assert_output 'xdp 0 tcx_ingress 0 tcx_egress 0'
	local id
	for id in $ids; do
		tx_wait_until 5 link_gone "$id" || fail "link $id outlived stop"
	done

	# The script without an interface's link says which link to make.
	run alpine /tmp/openrc-run texporter-load start
	assert_failure
	assert_output --partial 'ln -s texporter-load /etc/init.d/texporter-load.eth0'
}

@test "texporter-read (OpenRC): its command line, as its command_user, serves exact counts; a pin root it cannot reach is named" {
	install_r0
	load_in_alpine
	ping_b

	# What supervise-daemon would be given.
	run alpine /tmp/openrc-run texporter-read true
	assert_success
	# shellcheck disable=SC2016 # expanded in the Alpine root
	run alpine /bin/sh -c '. /tmp/openrc-run texporter-read true
		echo "$supervisor $command_user"; echo "$command $command_args"'
	assert_line --index 0 'supervise-daemon texporter:texporter'
	assert_line --index 1 --regexp '^/usr/bin/texporter-read --listen :2112 --pin-root /sys/fs/bpf/texporter *$'
	local user=${lines[0]#* }
	local -a command
	read -r -a command <<<"${lines[1]}"

	alpine --userspec="$user" "${command[@]}" >"$BATS_TEST_TMPDIR/reader.log" 2>&1 3>&- &
	TX_BG_PIDS+=("$!")
	tx_wait_until 5 tx_in "$NS_A" curl -sf -o /dev/null http://127.0.0.1:2112/metrics ||
		fail "texporter-read: $(cat "$BATS_TEST_TMPDIR/reader.log")"
	run tx_in "$NS_A" curl -sS --max-time 10 http://127.0.0.1:2112/metrics
	assert_success
	assert_counts "$output"
	run tx_in "$NS_A" curl -sS --max-time 10 http://127.0.0.1:2112/metrics
	assert_counts "$output"

	# start_pre's check: the bpffs passes (1777) ...
	run alpine /tmp/openrc-run texporter-read check_pin_path
	assert_success
	assert_output ''
	# ... a 0700 directory above the pin root does not, and is named.
	mkdir -m 0700 "$ROOT/tmp/locked"
	run alpine env pin_root=/tmp/locked/texporter /tmp/openrc-run texporter-read check_pin_path
	assert_failure
	assert_output --partial 'texporter cannot reach /tmp/locked/texporter: /tmp/locked has mode 700; let others pass (chmod o+x /tmp/locked)'
	# ... unless its group is the reader's and lets members pass.
	chgrp "$(alpine_gid texporter)" "$ROOT/tmp/locked"
	chmod 0710 "$ROOT/tmp/locked"
	run alpine env pin_root=/tmp/locked/texporter /tmp/openrc-run texporter-read check_pin_path
	assert_success
}

# --- upgrade and removal ---------------------------------------------------------

@test "an upgrade keeps the interface loaded and its counts, and names the interface to reload" {
	install_r0
	load_in_alpine
	ping_b
	local ids
	ids=$(link_ids)

	apk_add "$APK_R1"
	assert_success
	assert_line "(1/1) Upgrading texporter ($VERSION-r0 -> $VERSION-r1)"
	assert_line "Executing texporter-$VERSION-r1.post-upgrade"
	refute_line "Executing texporter-$VERSION-r0.pre-deinstall"
	assert_output --partial "texporter: $IF_A still runs the previous data plane; reload it, keeping its counters: texporter-load -i $IF_A -f /etc/texporter/config.json"
	refute_output --partial ERROR
	run alpine apk info -e texporter
	assert_success
	run alpine apk info texporter
	assert_line --index 0 "texporter-$VERSION-r1 description:"

	# Nothing was detached: the same links, the same counts, counting on.
	assert_equal "$(link_ids)" "$ids"
	run read_in_alpine --userspec=nobody:texporter
	assert_counts "$output"
	# The reload the message asks for keeps them (this upgrade brought the
	# same programs).
	run alpine /usr/sbin/texporter-load -i "$IF_A" -f /etc/texporter/config.json
	assert_success
	assert_output --partial "$IF_A: unchanged: "
	ping_b
	run read_in_alpine --userspec=nobody:texporter
	assert_counts "$output" 2
}

@test "apk del detaches every loaded interface and removes every file, and the links made to its init scripts" {
	install_r0
	load_in_alpine
	ping_b
	local ids files
	ids=$(link_ids)
	[[ -n $ids ]] || fail "no links pinned for $IF_A"
	files=$(package_files_sorted)
	# What an administrator would have made: a service per interface,
	# enabled, and the reader enabled; and a link of someone else's.
	ln -s texporter-load "$ROOT/etc/init.d/texporter-load.$IF_A"
	mkdir -p "$ROOT/etc/runlevels/default"
	ln -s "/etc/init.d/texporter-load.$IF_A" "$ROOT/etc/runlevels/default/texporter-load.$IF_A"
	ln -s /etc/init.d/texporter-read "$ROOT/etc/runlevels/default/texporter-read"
	ln -s /bin/busybox "$ROOT/etc/init.d/texporter-load.other"

	run alpine apk del texporter
	assert_success
	assert_line "(1/1) Purging texporter ($VERSION-r0)"
	assert_line "Executing texporter-$VERSION-r0.pre-deinstall"
	assert_line "Executing texporter-$VERSION-r0.post-deinstall"
	assert_output --partial "$IF_A: detached"
	refute_output --partial 'could not'
	refute_output --partial ERROR

	run alpine apk info -e texporter
	assert_failure
	local file left=()
	for file in $files; do
		[[ -e $ROOT/$file || -L $ROOT/$file ]] && left+=("$file")
	done
	assert_equal "${left[*]}" ''
	assert [ ! -e "$ROOT/etc/texporter" ]

	# Nothing left in the kernel: no pin, no attachment, no link.
	if [[ -d $PIN_ROOT ]]; then
		run find "$PIN_ROOT" -mindepth 1
		assert_output ''
	fi
	run attachments_a
	assert_output 'xdp 0 tcx_ingress 0 tcx_egress 0'
	local id
	for id in $ids; do
		tx_wait_until 5 link_gone "$id" || fail "link $id outlived apk del"
	done

	# The dangling links went; the one leading somewhere stayed, and so
	# did the account.
	run find "$ROOT/etc/init.d" "$ROOT/etc/runlevels" -name 'texporter-*'
	assert_output "$ROOT/etc/init.d/texporter-load.other"
	run grep -c '^texporter:' "$ROOT/etc/passwd" "$ROOT/etc/group"
	assert_output - <<-EOF
	$ROOT/etc/passwd:1
	$ROOT/etc/group:1
	EOF
}
