#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# The RPM package for RHEL 9, Fedora and Amazon Linux 2023 (`make rpm`):
# what it requires (no shared library), what it holds, its scriptlets, and
# what rpm does with it in a scratch root: rpm --root installs into an
# empty directory and chroots into it for the scriptlets, so the scriptlets
# really run there, with busybox-static as /bin/sh and its applets, and
# the shadow tools (groupadd, useradd) that RHEL has. There is no RHEL
# userland here: dnf, SELinux and systemd as RHEL runs them are not tested
# (docs/packaging.md says what that leaves).
#
# The package is built once per file, into the file's own directory (as
# tests/packaging.bats builds the .deb), so build/ only ever holds what
# `make` put there. Each test makes its own scratch root under /tmp, with
# its own sysfs, proc and bpffs mounts where it runs the binaries, and
# teardown unmounts and removes it all, pass or fail. Interfaces are the
# test's own veth pair (helpers.bash).

load helpers

SCRIPTLETS=(pre post preun postun)

# --- the package, once per file ---------------------------------------------

# Why this file cannot run here, or nothing.
rpm_blocker() {
	local tool
	for tool in rpm rpmbuild rpm2cpio cpio busybox dash groupadd useradd ldd chroot mknod; do
		command -v "$tool" >/dev/null || {
			echo "$tool is not installed (Debian: apt-get install rpm busybox-static)"
			return
		}
	done
	# The scratch root has no libraries for a dynamic busybox.
	if ldd "$(command -v busybox)" >/dev/null 2>&1; then
		echo "busybox is linked dynamically (Debian: apt-get install busybox-static)"
	fi
}

mk() {
	make -C "$TX_REPO" --no-print-directory BUILD="$BUILD" "$@"
}

# build_rpm DIR [RELEASE]: `make rpm` into DIR, named as make names it
# (rpmlint checks the name); sets BUILT_RPM.
build_rpm() {
	local dir=$1 release=${2:-1}
	BUILT_RPM=$dir/texporter-$VERSION-$release.$(uname -m).rpm
	mk rpm RPM_STAGE="$dir/stage" RPM_TOPDIR="$dir/top" RPM_FILE="$BUILT_RPM" \
		RPM_RELEASE="$release" >/dev/null
}

setup_file() {
	RPM_SKIP=$(rpm_blocker)
	VERSION=$(cat "$TX_REPO/VERSION")
	SPEC=$BATS_FILE_TMPDIR/top/SPECS/texporter.spec
	export RPM_SKIP VERSION SPEC
	[[ -z $RPM_SKIP ]] || return 0
	build_rpm "$BATS_FILE_TMPDIR"
	export RPM=$BUILT_RPM
}

# --- per test ---------------------------------------------------------------

setup() {
	# What teardown may undo: only what this test made.
	SCRATCH=''
	NS_A=''
	TX_BPFFS=''
	[[ -z $RPM_SKIP ]] || skip "$RPM_SKIP"
	# Debian's rpm warns on every install and erase that packages belong
	# with alien unless told otherwise; in a scratch root that is moot.
	RPM_FORCE=()
	if rpm --help 2>/dev/null | grep -q -- --force-debian; then
		RPM_FORCE=(--force-debian)
	fi
}

teardown() {
	local mnt
	# Detaches what the test left loaded, deletes the namespaces and
	# unmounts the bpffs (TX_BPFFS) inside the scratch root.
	tx_teardown
	if [[ -n ${SCRATCH:-} ]]; then
		for mnt in "$SCRATCH/sys" "$SCRATCH/proc"; do
			if mountpoint -q "$mnt"; then
				umount "$mnt" 2>/dev/null || umount -l "$mnt" || true
			fi
		done
		# Never remove through a mount that is still there.
		if ! grep -q " $SCRATCH/" /proc/self/mounts; then
			rm -rf --one-file-system "$SCRATCH"
		else
			echo "teardown: $SCRATCH still has mounts; left in place" >&2
		fi
	fi
}

# --- the scratch root -------------------------------------------------------

# copy_program PATH: PATH and the shared libraries it loads, into the
# scratch root at the same paths.
copy_program() {
	local file
	for file in "$1" $(ldd "$1" | grep -o '/[^ ]*'); do
		mkdir -p "$SCRATCH$(dirname "$file")"
		cp -L "$file" "$SCRATCH$file"
	done
}

# make_root [--no-shadow]: an empty system in SCRATCH: busybox-static as
# /bin/sh and its applets, root in passwd, group and shadow, /dev/null,
# an empty rpmdb where RHEL keeps it; with the shadow tools groupadd and
# useradd (the host's, with their libraries) unless --no-shadow.
make_root() {
	local applet
	SCRATCH=$(mktemp -d /tmp/texporter-rpm.XXXXXX)
	# Traversable by the texporter user, as a root directory is.
	chmod 0755 "$SCRATCH"
	mkdir -p "$SCRATCH"/{bin,sbin,dev,etc,proc,sys,tmp,var/tmp}
	chmod 1777 "$SCRATCH/tmp" "$SCRATCH/var/tmp"
	cp "$(command -v busybox)" "$SCRATCH/bin/busybox"
	for applet in $("$SCRATCH/bin/busybox" --list); do
		[[ -e $SCRATCH/bin/$applet ]] || ln -s busybox "$SCRATCH/bin/$applet"
	done
	ln -s ../bin/busybox "$SCRATCH/sbin/nologin"
	mknod -m 0666 "$SCRATCH/dev/null" c 1 3
	echo 'root:x:0:0:root:/root:/bin/sh' >"$SCRATCH/etc/passwd"
	echo 'root:x:0:' >"$SCRATCH/etc/group"
	(umask 077 && echo 'root:*:19000:0:99999:7:::' >"$SCRATCH/etc/shadow" &&
		echo 'root:*::' >"$SCRATCH/etc/gshadow")
	if [[ ${1:-} != --no-shadow ]]; then
		copy_program "$(command -v groupadd)"
		copy_program "$(command -v useradd)"
	fi
	# The root's own rpmdb: Debian's rpm would keep it in ~/.rpmdb.
	rpm --root "$SCRATCH" --dbpath /var/lib/rpm --initdb
}

# sysfs (libbpf reads the possible CPUs there), proc, and a private bpffs
# where the pins go: /sys/fs/bpf/texporter inside the root.
mount_root_filesystems() {
	mount -t sysfs sysfs "$SCRATCH/sys"
	mount -t proc proc "$SCRATCH/proc"
	TX_BPFFS=$SCRATCH/sys/fs/bpf
	PIN_ROOT=$TX_BPFFS/texporter
	mount -t bpf bpf "$TX_BPFFS"
}

scratch_rpm() {
	rpm --root "$SCRATCH" --dbpath /var/lib/rpm "${RPM_FORCE[@]}" "$@"
}

# The scratch root's rpmdb holds no package, and rpm resolves requirements
# against its db only: /bin/sh is there as a file no package provides,
# python3 (texporter-update-ranges, not run here) not at all. Hence
# --nodeps; rpm -qpR and its test check the requirements themselves.
install_rpm() {
	run scratch_rpm -i --nodeps "$RPM"
	assert_success
}

# A line of the root's passwd or group file for NAME, or nothing.
account_line() {
	grep "^$2:" "$SCRATCH/etc/$1" || true
}

# Every regular file and symlink under the root that the package put
# there, as paths inside the root.
package_files_present() {
	local file
	for file in $(rpm -qpl "$RPM"); do
		[[ -f $SCRATCH$file || -L $SCRATCH$file ]] && echo "$file"
	done
	return 0
}

# --- the package ------------------------------------------------------------

@test "the rpm requires /bin/sh for its scriptlets, python3 for the range updater and no shared library" {
	# The rpmlib features date from rpm 3.0.4 to 4.6: RHEL 9's and Amazon
	# Linux 2023's rpm (4.16) have them all. config(texporter) is the
	# package's own.
	run rpm -qpR "$RPM"
	assert_success
	refute_output --regexp '\.so'
	assert_output - <<-EOF
	/bin/sh
	/bin/sh
	/bin/sh
	/bin/sh
	/usr/bin/python3
	config(texporter) = $VERSION-1
	rpmlib(CompressedFileNames) <= 3.0.4-1
	rpmlib(FileDigests) <= 4.6.0-1
	rpmlib(PayloadFilesHavePrefix) <= 4.0-1
	rpmlib(PayloadIsXz) <= 5.2-1
	EOF
	run rpm -qp --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}\n' "$RPM"
	assert_output "texporter $VERSION 1 $(uname -m) Apache-2.0"
}

@test "the rpm holds binaries, units, man pages, docs and configs, owned by root" {
	# mode, flags (c config, n noreplace, d doc, l license), path
	run bash -c "rpm -qp --qf '[%{FILEFLAGS:fflags}:%{FILEMODES:perms}:%{FILENAMES}\n]' '$RPM' |
		awk -F: '\$3 !~ /^\/usr\/share\/doc\/texporter\/licenses/ {
			printf \"%s %s %s\n\", \$2, (\$1 == \"\" ? \"-\" : \$1), \$3 }'"
	assert_output - <<-'EOF'
	-rw-r--r-- cn /etc/default/texporter
	drwxr-xr-x - /etc/texporter
	-rw-r--r-- cn /etc/texporter/config.json
	-rw-r--r-- cn /etc/texporter/static.json
	-rwxr-xr-x - /usr/bin/texporter-read
	-rw-r--r-- - /usr/lib/systemd/system/texporter-load@.service
	-rw-r--r-- - /usr/lib/systemd/system/texporter-read.socket
	-rw-r--r-- - /usr/lib/systemd/system/texporter-read@.service
	-rw-r--r-- - /usr/lib/systemd/system/texporter-textfile.service
	-rw-r--r-- - /usr/lib/systemd/system/texporter-textfile.timer
	lrwxrwxrwx - /usr/lib/systemd/system/texporter@.service
	-rwxr-xr-x - /usr/sbin/texporter-load
	-rwxr-xr-x - /usr/sbin/texporter-update-ranges
	drwxr-xr-x - /usr/share/doc/texporter
	-rw-r--r-- d /usr/share/doc/texporter/architecture.md
	-rw-r--r-- d /usr/share/doc/texporter/deployment.md
	drwxr-xr-x - /usr/share/doc/texporter/examples
	-rw-r--r-- d /usr/share/doc/texporter/examples/inetd.conf
	-rw-r--r-- d /usr/share/doc/texporter/examples/texporter-read-cap-bpf.conf
	-rw-r--r-- d /usr/share/doc/texporter/examples/texporter-read-web-config.conf
	-rw-r--r-- d /usr/share/doc/texporter/examples/texporter-read.xinetd
	-rw-r--r-- d /usr/share/doc/texporter/examples/texporter.cron
	-rw-r--r-- d /usr/share/doc/texporter/examples/web-config.yml
	-rw-r--r-- d /usr/share/doc/texporter/grafana-dashboard.json
	-rw-r--r-- d /usr/share/doc/texporter/prometheus.md
	drwxr-xr-x - /usr/share/licenses/texporter
	-rw-r--r-- l /usr/share/licenses/texporter/LICENSE
	-rw-r--r-- d /usr/share/man/man8/texporter-load.8.gz
	-rw-r--r-- d /usr/share/man/man8/texporter-read.8.gz
	-rw-r--r-- d /usr/share/man/man8/texporter-update-ranges.8.gz
	EOF
	run bash -c "rpm -qp --qf '[%{FILEUSERNAME}:%{FILEGROUPNAME}\n]' '$RPM' | sort -u"
	assert_output 'root:root'
}

@test "the rpm holds the licences of the libraries linked into the static binaries, marked as licences" {
	local expected
	expected=$(cd "$BUILD/static/licenses" && find . -type f | sed 's|^\.|dl /usr/share/doc/texporter/licenses|' | LC_ALL=C sort)
	[[ -n $expected ]] || fail "no licences in $BUILD/static/licenses"
	run bash -c "rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' '$RPM' |
		grep ' /usr/share/doc/texporter/licenses/' | grep -v '^ ' | LC_ALL=C sort"
	assert_output "$expected"
}

@test "the rpm's man pages are the docs' pages, compressed" {
	local x=$BATS_TEST_TMPDIR/x page
	mkdir -p "$x"
	(cd "$x" && rpm2cpio "$RPM" | cpio -idm --quiet)
	for page in texporter-load.8 texporter-read.8 texporter-update-ranges.8; do
		gzip -dc "$x/usr/share/man/man8/$page.gz" | cmp - "$TX_REPO/docs/$page"
	done
}

@test "the rpm's binaries are stripped and static" {
	local x=$BATS_TEST_TMPDIR/x bin
	mkdir -p "$x"
	(cd "$x" && rpm2cpio "$RPM" | cpio -idm --quiet)
	for bin in usr/sbin/texporter-load usr/bin/texporter-read; do
		run readelf -S "$x/$bin"
		refute_output --partial '.debug_info'
		refute_output --partial '.symtab'
		run readelf -d "$x/$bin"
		assert_output --partial 'There is no dynamic section in this file.'
	done
}

@test "the rpm's scriptlets are scripts/rpm/{pre,post,preun,postun} unchanged, run by /bin/sh" {
	local tag name
	for name in "${SCRIPTLETS[@]}"; do
		case $name in
		pre) tag=PREIN ;; post) tag=POSTIN ;; preun) tag=PREUN ;; postun) tag=POSTUN ;;
		esac
		rpm -qp --qf "%{$tag}" "$RPM" >"$BATS_TEST_TMPDIR/$name"
		cmp "$BATS_TEST_TMPDIR/$name" "$TX_REPO/scripts/rpm/$name"
		run rpm -qp --qf "%{${tag}PROG}" "$RPM"
		assert_output /bin/sh
	done
	run rpm -qp --scripts "$RPM"
	assert_line 'preinstall scriptlet (using /bin/sh):'
	assert_line 'postinstall scriptlet (using /bin/sh):'
	assert_line 'preuninstall scriptlet (using /bin/sh):'
	assert_line 'postuninstall scriptlet (using /bin/sh):'
}

@test "every scriptlet is POSIX sh: dash, busybox sh and shellcheck -s sh accept it" {
	command -v shellcheck >/dev/null || skip "shellcheck is not installed"
	local name
	for name in "${SCRIPTLETS[@]}"; do
		dash -n "$TX_REPO/scripts/rpm/$name"
		busybox sh -n "$TX_REPO/scripts/rpm/$name"
	done
	run shellcheck -s sh "${SCRIPTLETS[@]/#/$TX_REPO/scripts/rpm/}" "$TX_REPO/scripts/rpm/file-list"
	assert_success
	assert_output ''
}

@test "the rpm and its spec pass rpmlint" {
	command -v rpmlint >/dev/null || skip "rpmlint is not installed (Debian: apt-get install rpmlint)"
	run rpmlint --strict -c "$TX_REPO/scripts/rpm/rpmlint.toml" "$SPEC" "$RPM"
	assert_success
	assert_output --partial '1 packages and 1 specfiles checked; 0 errors, 0 warnings'
}

@test "two builds of one commit give the same rpm" {
	build_rpm "$BATS_TEST_TMPDIR"
	cmp "$RPM" "$BUILT_RPM"
}

@test "file-list refuses a staged name that rpm would not read literally" {
	local stage=$BATS_TEST_TMPDIR/stage
	mkdir -p "$stage/usr/bin"
	touch "$stage/usr/bin/texporter-read" "$stage/usr/bin/100%"
	run "$TX_REPO/scripts/rpm/file-list" "$stage"
	assert_failure
	assert_output --partial "$stage/usr/bin/100%: rpm would not read this name literally"
}

# --- installed into a scratch root ------------------------------------------

@test "rpm -i in an empty root creates the texporter account and rpm -V finds every file as packaged" {
	make_root
	install_rpm
	run scratch_rpm -q texporter
	assert_output "texporter-$VERSION-1.$(uname -m)"
	run scratch_rpm -V --nodeps texporter
	assert_success
	assert_output ''
	run account_line group texporter
	assert_output --regexp '^texporter:x:[0-9]+:$'
	local gid=${output#texporter:x:}
	gid=${gid%:}
	run account_line passwd texporter
	assert_output --regexp "^texporter:x:[0-9]+:$gid:texporter metrics reader:/nonexistent:/sbin/nologin$"
	local uid=${output#texporter:x:}
	uid=${uid%%:*}
	# A system account: below useradd's first login uid.
	((uid < 1000 && gid < 1000)) || fail "texporter got uid $uid, gid $gid"
	run grep -c '^texporter:' "$SCRATCH/etc/shadow"
	assert_output 1
}

@test "the installed binaries run in the root on their own: --version and --check of the packaged config" {
	make_root
	install_rpm
	mount_root_filesystems
	run chroot "$SCRATCH" /usr/bin/texporter-read --version
	assert_success
	assert_output --regexp "^texporter-read $VERSION "
	run chroot "$SCRATCH" /usr/sbin/texporter-load --version
	assert_success
	assert_output --regexp "^texporter-load $VERSION "
	run chroot "$SCRATCH" /usr/sbin/texporter-load --check -f /etc/texporter/config.json
	assert_success
	assert_line --index 0 --regexp '^/etc/texporter/config.json: ok: 5 ranges, '
	refute_output --partial 'libbpf'
}

@test "rpm -i keeps a texporter group the operator made and adds only the user" {
	make_root
	echo 'texporter:x:4242:' >>"$SCRATCH/etc/group"
	install_rpm
	run account_line group texporter
	assert_output 'texporter:x:4242:'
	run account_line passwd texporter
	assert_output --regexp '^texporter:x:[0-9]+:4242:'
}

@test "rpm -i keeps a texporter account the operator made" {
	make_root
	echo 'texporter:x:4242:' >>"$SCRATCH/etc/group"
	echo 'texporter:x:4243:4242:mine:/srv/texporter:/bin/sh' >>"$SCRATCH/etc/passwd"
	cp "$SCRATCH/etc/passwd" "$BATS_TEST_TMPDIR/passwd"
	cp "$SCRATCH/etc/group" "$BATS_TEST_TMPDIR/group"
	install_rpm
	cmp "$BATS_TEST_TMPDIR/passwd" "$SCRATCH/etc/passwd"
	cmp "$BATS_TEST_TMPDIR/group" "$SCRATCH/etc/group"
}

@test "rpm -i stops before any file where neither useradd nor busybox's adduser can make the account, and names the fix" {
	# Debian's busybox has no adduser applet: this root has no tool at all.
	make_root --no-shadow
	run scratch_rpm -i --nodeps "$RPM"
	assert_failure
	assert_output --partial 'texporter: cannot create the system account texporter: neither useradd (shadow-utils) nor adduser (busybox) is installed; install shadow-utils (dnf install shadow-utils) and install texporter again'
	run scratch_rpm -q texporter
	assert_failure
	run package_files_present
	assert_output ''
}

@test "rpm --excludedocs (dnf's tsflags=nodocs) leaves out docs and man pages but keeps every licence" {
	make_root
	run scratch_rpm -i --nodeps --excludedocs "$RPM"
	assert_success
	local expected
	expected=$( (cd "$BUILD/static/licenses" && find . -type f |
		sed 's|^\.|usr/share/doc/texporter/licenses|'
		echo usr/share/licenses/texporter/LICENSE) | LC_ALL=C sort)
	run bash -c "cd '$SCRATCH' && find usr/share -type f | LC_ALL=C sort"
	assert_output "$expected"
	assert [ -x "$SCRATCH/usr/sbin/texporter-load" ]
}

@test "rpm -e removes every file, keeps a changed config as .rpmsave and the account, and clears the textfile and enable links" {
	make_root
	install_rpm
	echo '[]' >"$SCRATCH/etc/texporter/config.json"
	# What the units leave that no package owns.
	mkdir -p "$SCRATCH/var/lib/prometheus/node-exporter" \
		"$SCRATCH/etc/systemd/system/multi-user.target.wants" "$SCRATCH/etc/systemd/system/sockets.target.wants"
	echo 'texporter_up 1' >"$SCRATCH/var/lib/prometheus/node-exporter/texporter.prom"
	echo 'node_other 1' >"$SCRATCH/var/lib/prometheus/node-exporter/other.prom"
	ln -s /usr/lib/systemd/system/texporter-load@.service \
		"$SCRATCH/etc/systemd/system/multi-user.target.wants/texporter-load@eth0.service"
	ln -s /usr/lib/systemd/system/texporter-read.socket \
		"$SCRATCH/etc/systemd/system/sockets.target.wants/texporter-read.socket"
	ln -s /usr/lib/systemd/system/other.service \
		"$SCRATCH/etc/systemd/system/multi-user.target.wants/other.service"
	run scratch_rpm -e texporter
	assert_success
	assert_output --partial '/etc/texporter/config.json saved as /etc/texporter/config.json.rpmsave'
	run scratch_rpm -q texporter
	assert_failure
	run package_files_present
	assert_output ''
	run bash -c "cd '$SCRATCH' && find etc/texporter var/lib/prometheus etc/systemd -type f -o -type l | LC_ALL=C sort"
	assert_output - <<-'EOF'
	etc/systemd/system/multi-user.target.wants/other.service
	etc/texporter/config.json.rpmsave
	var/lib/prometheus/node-exporter/other.prom
	EOF
	run account_line passwd texporter
	assert_output --regexp '^texporter:'
}

# --- counting from the scratch root -----------------------------------------

# Load IF_A from the root's texporter-load with a config of the test's
# ranges, and 3 IPv4 pings of 100 data bytes through it.
load_and_ping() {
	tx_setup_pair
	tx_write_config "$SCRATCH/etc/texporter/test.json" "lan=$IP4_A,$IP6_A" "peer=$IP4_B,$IP6_B"
	run tx_in "$NS_A" chroot "$SCRATCH" /usr/sbin/texporter-load -i "$IF_A" -f /etc/texporter/test.json
	assert_success
	assert_output --partial "$IF_A: attached: "
	tx_ping_b ipv4 3 100
}

# texporter-read of the root, as the texporter user (no capability).
read_as_texporter() {
	local ids
	ids=$(awk -F: '$1 == "texporter" { print $3 ":" $4 }' "$SCRATCH/etc/passwd")
	run tx_in "$NS_A" chroot --userspec="$ids" "$SCRATCH" /usr/bin/texporter-read
	assert_success
}

# COUNT IPv4 pings of 100 data bytes each way, counted on IF_A (128 L3 bytes each).
assert_ping_counts() {
	local count=$1 a="iface=\"$IF_A\",family=\"ipv4\""
	assert_line "texporter_captured_packets_total{$a,src=\"lan\",dst=\"peer\"} $count"
	assert_line "texporter_captured_bytes_total{$a,src=\"lan\",dst=\"peer\"} $((count * 128))"
	assert_line "texporter_captured_packets_total{$a,src=\"peer\",dst=\"lan\"} $count"
	assert_line "texporter_captured_bytes_total{$a,src=\"peer\",dst=\"lan\"} $((count * 128))"
}

@test "the installed loader counts exact traffic, and the texporter user reads it from the pins it got" {
	make_root
	install_rpm
	mount_root_filesystems
	load_and_ping
	local gid
	gid=$(awk -F: '$1 == "texporter" { print $3 }' "$SCRATCH/etc/group")
	assert_equal "$(stat -c '%a %u:%g' "$PIN_ROOT/$IF_A")" "750 0:$gid"
	read_as_texporter
	assert_ping_counts 3
}

@test "rpm -U to the next release keeps the interface loaded, its counts and a changed config" {
	make_root
	install_rpm
	mount_root_filesystems
	load_and_ping
	echo '[]' >"$SCRATCH/etc/texporter/config.json"
	build_rpm "$BATS_TEST_TMPDIR/r2" 2
	run scratch_rpm -U --nodeps "$BUILT_RPM"
	assert_success
	refute_output --partial 'detach'
	run scratch_rpm -q texporter
	assert_output "texporter-$VERSION-2.$(uname -m)"
	run cat "$SCRATCH/etc/texporter/config.json"
	assert_output '[]'
	read_as_texporter
	assert_ping_counts 3
	tx_ping_b ipv4 3 100
	read_as_texporter
	assert_ping_counts 6
}

@test "rpm -e detaches an interface the installed loader attached" {
	make_root
	install_rpm
	mount_root_filesystems
	load_and_ping
	run tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/bpfattached.py" "$IF_A"
	if [[ $(tx_default_tc_mode) == tcx ]]; then
		assert_output 'xdp 1 tcx_ingress 0 tcx_egress 1'
	else
		assert_output 'xdp 1 tcx_ingress 0 tcx_egress 0'
	fi
	# As dpkg -P in tests/install.bats: the pre-uninstall runs in the root
	# network namespace, where IF_A does not exist; the links go with
	# their pins all the same.
	run scratch_rpm -e texporter
	assert_success
	assert_output --partial "$IF_A: detached"
	refute_output --partial 'could not detach'
	run find "$PIN_ROOT" -mindepth 1
	assert_output ''
	run tx_in "$NS_A" "$PYTHON" "$TX_TOOLS/bpfattached.py" "$IF_A"
	assert_output 'xdp 0 tcx_ingress 0 tcx_egress 0'
	run tx_in "$NS_A" tc filter show dev "$IF_A" egress
	assert_output ''
}
