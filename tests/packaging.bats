#!/usr/bin/env bats
# What an operator installs besides the two binaries: units, man pages,
# the range updater, the Grafana dashboard, make install/uninstall and the
# Debian package. Needs the binaries that `make` built; touches nothing
# outside temporary directories.

load helpers

DATA=$TX_REPO/tests/data/update-ranges
UNITS="texporter-load@.service texporter-read.socket texporter-read@.service
texporter-textfile.service texporter-textfile.timer"

need() {
	command -v "$1" >/dev/null || skip "$1 is not installed${2:+ ($2)}"
}

mk() {
	make -C "$TX_REPO" --no-print-directory BUILD="$BUILD" "$@"
}

# A scratch config directory and a reload command that leaves a trace.
updater_setup() {
	ETC=$BATS_TEST_TMPDIR/etc
	mkdir -p "$ETC"
	cp "$DATA/static.json" "$ETC/static.json"
	cp "$DATA/static.json" "$ETC/config.json"
	cp "$ETC/config.json" "$BATS_TEST_TMPDIR/config.before"
	RELOADED=$BATS_TEST_TMPDIR/reloaded
	LISTS=$DATA
}

update_ranges() {
	run "$TX_REPO/scripts/texporter-update-ranges" -c "$ETC/config.json" \
		-s "$ETC/static.json" --settings "$DATA/settings" --from-dir "$LISTS" \
		--loader "$BUILD/texporter-load" \
		--reload-cmd "echo \"\$TEXPORTER_CONFIG\" >> '$RELOADED'" "$@"
}

# The ranges of a config as "name ipv4... | ipv6..." lines.
ranges_of() {
	"$PYTHON" -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    print(r["name"], *r["ipv4"], "|", *r["ipv6"])' "$1"
}

assert_config_untouched() {
	cmp "$BATS_TEST_TMPDIR/config.before" "$ETC/config.json"
	assert_file_not_exists "$RELOADED"
	run find "$ETC" -name '.config.json.*'
	assert_output ''
}

@test "every unit passes systemd-analyze verify with the installed binaries" {
	need systemd-analyze
	local root=$BATS_TEST_TMPDIR/root
	# Installed without DESTDIR under a scratch prefix, the units name the
	# installed binaries, which verify requires to exist.
	mk install PREFIX="$root/usr" sysconfdir="$root/etc" unitdir="$root/units"
	for unit in $UNITS; do
		run systemd-analyze verify --man=no "$root/units/$unit"
		assert_success
		assert_output ''
	done
	grep -qx "ExecStart=$root/usr/bin/texporter-read --inetd --pin-root /run/texporter" "$root/units/texporter-read@.service"
}

# After `run systemd-analyze security`: the overall exposure is at most 2.0.
assert_exposure_at_most_2() {
	local score
	score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"$output")
	[ -n "$score" ]
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score > 2.0"
}

@test "the socket-activated reader is rated at most 2.0 by systemd-analyze security" {
	need systemd-analyze
	run systemd-analyze security --offline=yes --no-pager \
		"$TX_REPO/systemd/texporter-read@.service"
	assert_success
	assert_exposure_at_most_2
}

@test "with the web config drop-in the reader stays rated at most 2.0, and its command line reads the example file" {
	need systemd-analyze
	local unit=$BATS_TEST_TMPDIR/texporter-read@.service exec_start
	cat "$TX_REPO/systemd/texporter-read@.service" "$TX_REPO/systemd/texporter-read-web-config.conf" >"$unit"
	run systemd-analyze security --offline=yes --no-pager "$unit"
	assert_success
	assert_exposure_at_most_2
	refute_line --regexp '^✗ CapabilityBoundingSet='
	# The drop-in's command line on the example file: parsed whole, it
	# stops at the certificate the example names (not on this machine).
	exec_start=$(sed -n 's/^ExecStart=\(.\)/\1/p' "$TX_REPO/systemd/texporter-read-web-config.conf")
	[[ $exec_start == *' --web.config.file /etc/texporter/web-config.yml' ]]
	run "$BUILD/texporter-read" --listen 127.0.0.1:0 --pin-root /nonexistent \
		--web.config.file "$TX_REPO/scripts/web-config.yml"
	assert_failure 2
	assert_output "texporter-read: error: --web.config.file: tls_server_config.cert_file: cannot read /etc/texporter/tls/server.pem: No such file or directory"
}

@test "with the CAP_BPF drop-in of kernels before 5.19 the reader keeps CAP_BPF alone and stays rated at most 2.0" {
	need systemd-analyze
	local unit=$BATS_TEST_TMPDIR/texporter-read@.service
	# The drop-in's settings after the unit's, as systemd applies them.
	cat "$TX_REPO/systemd/texporter-read@.service" "$TX_REPO/systemd/texporter-read-cap-bpf.conf" >"$unit"
	run systemd-analyze security --offline=yes --no-pager "$unit"
	assert_success
	assert_line --regexp '^✗ CapabilityBoundingSet=~CAP_BPF +'
	refute_line --regexp '^✗ CapabilityBoundingSet=~CAP_(SYS_ADMIN|NET_ADMIN|SYS_PTRACE|DAC_)'
	assert_exposure_at_most_2
}

@test "the units load, reload and detach with the same interface and pin root" {
	local unit=$TX_REPO/systemd/texporter-load@.service
	grep -qx 'ExecStart=/usr/sbin/texporter-load -i %I -f ${TEXPORTER_CONFIG} --pin-root ${TEXPORTER_PIN_ROOT} $TEXPORTER_LOAD_OPTS' "$unit"
	grep -qx 'ExecReload=/usr/sbin/texporter-load -i %I -f ${TEXPORTER_CONFIG} --pin-root ${TEXPORTER_PIN_ROOT} $TEXPORTER_LOAD_OPTS' "$unit"
	grep -qx 'ExecStop=/usr/sbin/texporter-load -i %I --pin-root ${TEXPORTER_PIN_ROOT} --detach' "$unit"
	grep -qx 'EnvironmentFile=-/etc/default/texporter' "$unit"
	grep -qx 'EnvironmentFile=-/etc/texporter/%I.env' "$unit"
}

@test "the man pages pass mandoc -T lint" {
	need mandoc
	run mandoc -T lint -W warning "$TX_REPO"/docs/*.8
	assert_success
	assert_output ''
}

@test "the man pages name every option of --help" {
	local bin page opt
	for bin in texporter-load texporter-read; do
		page=$TX_REPO/docs/$bin.8
		for opt in $("$BUILD/$bin" --help | grep -E -- '^ +(-[a-zA-Z], )?--' |
			grep -o -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -- "Fl \\\\${opt#-}" "$page" || fail "$bin.8 lacks $opt"
		done
	done
}

@test "the default config passes texporter-load --check" {
	run "$BUILD/texporter-load" --check -f "$TX_REPO/scripts/config.default.json"
	assert_success
}

@test "every metric the dashboard and the docs name is one texporter-read exports" {
	local exported named missing=
	exported=$(grep -a -o 'texporter_[a-z_]*' "$BUILD/texporter-read" | sort -u)
	named=$(grep -h -o 'texporter_[a-z_]*[a-z]' "$TX_REPO/docs/grafana-dashboard.json" \
		"$TX_REPO/docs/prometheus.md" "$TX_REPO/docs/texporter-read.8" | sort -u)
	for name in $named; do
		grep -qx "$name" <<<"$exported" || missing="$missing $name"
	done
	[ -z "$missing" ] || fail "not exported by texporter-read:$missing"
}

@test "every dashboard query passes promtool, and the rules file is current" {
	need promtool
	run "$TX_REPO/scripts/check-dashboard"
	assert_success
	assert_output --partial 'dashboard queries pass promtool check rules'
}

@test "check-dashboard fails on a broken dashboard query" {
	need promtool
	local dash=$BATS_TEST_TMPDIR/dashboard.json
	sed 's/sum by (dst) (rate(/sum by (dst) (rate((/' \
		"$TX_REPO/docs/grafana-dashboard.json" > "$dash"
	run "$TX_REPO/scripts/check-dashboard" --dashboard "$dash" \
		--rules "$BATS_TEST_TMPDIR/rules.yml" --write
	assert_failure
	assert_output --partial 'promtool rejects a dashboard query'
}

@test "update-ranges merges the lists, replaces the config and reloads" {
	updater_setup
	update_ranges
	assert_success
	assert_output --partial "replaced $ETC/config.json: 9 ranges, 14 IPv4 and 8 IPv6 prefixes"
	run ranges_of "$ETC/config.json"
	assert_output - <<-'EOF'
	private 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 | fc00::/7
	cgnat 100.64.0.0/10 |
	loopback 127.0.0.0/8 | ::1/128
	link-local 169.254.0.0/16 | fe80::/10
	multicast 224.0.0.0/4 | ff00::/8
	zoom 192.0.2.0/25 192.0.2.128/25 198.51.100.0/24 | 2001:db8:100::/40
	youtube 203.0.113.0/26 203.0.113.64/32 | 2001:db8:200::/48
	google 203.0.113.128/26 | 2001:db8:200::/40
	amazon 198.18.0.0/15 | 2001:db8:400::/40
	EOF
	run cat "$RELOADED"
	assert_output "$ETC/config.json"
	"$BUILD/texporter-load" --check -f "$ETC/config.json"
}

@test "update-ranges keeps a prefix listed under two names with the first" {
	updater_setup
	update_ranges
	assert_success
	assert_output --partial "1 prefix(es) of 'google' are also in 'youtube'; kept in 'youtube'"
}

@test "update-ranges changes and reloads nothing when the lists did not change" {
	updater_setup
	update_ranges
	assert_success
	rm "$RELOADED"
	cp "$ETC/config.json" "$BATS_TEST_TMPDIR/config.before"
	update_ranges
	assert_success
	assert_output --partial 'is up to date'
	assert_config_untouched
}

@test "update-ranges fetches file:// URLs" {
	updater_setup
	TEXPORTER_RANGES=amazon TEXPORTER_RANGES_AMAZON="file://$DATA/ip-ranges.json" \
		run "$TX_REPO/scripts/texporter-update-ranges" -c "$ETC/config.json" \
		-s "$ETC/static.json" --settings /dev/null \
		--loader "$BUILD/texporter-load" --no-reload
	assert_success
	run ranges_of "$ETC/config.json"
	assert_line --index 5 'amazon 198.18.0.0/15 | 2001:db8:400::/40'
}

@test "update-ranges --dry-run prints the new config and replaces nothing" {
	updater_setup
	update_ranges --dry-run
	assert_success
	assert_output --partial '"name": "amazon"'
	assert_config_untouched
}

@test "update-ranges leaves the config untouched when a list does not parse" {
	updater_setup
	LISTS=$BATS_TEST_TMPDIR/lists
	cp -r "$DATA" "$LISTS"
	printf '<html>rate limited</html>\n' > "$LISTS/cidr4.txt"
	update_ranges
	assert_failure 1
	assert_output --partial "cidr4.txt:1"
	assert_output --partial 'left unchanged'
	assert_config_untouched
}

@test "update-ranges leaves the config untouched when a list is missing" {
	updater_setup
	LISTS=$BATS_TEST_TMPDIR/lists
	cp -r "$DATA" "$LISTS"
	rm "$LISTS/goog.json"
	update_ranges
	assert_failure 1
	assert_output --partial 'goog.json'
	assert_config_untouched
}

@test "update-ranges leaves the config untouched when a range's lists are empty" {
	updater_setup
	LISTS=$BATS_TEST_TMPDIR/lists
	cp -r "$DATA" "$LISTS"
	: > "$LISTS/cidr4.txt"
	printf '# nothing today\n' > "$LISTS/cidr6.txt"
	update_ranges
	assert_failure 1
	assert_output --partial "the lists of 'youtube' hold no prefix"
	assert_config_untouched
}

@test "update-ranges leaves the config untouched when texporter-load --check rejects it" {
	updater_setup
	# A name of 64 bytes: one more than texporter allows.
	"$PYTHON" -c 'import json, sys
ranges = json.load(open(sys.argv[1]))
ranges[0]["name"] = "n" * 64
json.dump(ranges, open(sys.argv[1], "w"))' "$ETC/static.json"
	update_ranges
	assert_failure 1
	assert_output --partial 'does not pass'
	assert_config_untouched
}

@test "update-ranges reports a failed reload after replacing the config" {
	updater_setup
	run "$TX_REPO/scripts/texporter-update-ranges" -c "$ETC/config.json" \
		-s "$ETC/static.json" --settings "$DATA/settings" --from-dir "$DATA" \
		--loader "$BUILD/texporter-load" --reload-cmd 'exit 3'
	assert_failure 1
	assert_output --partial 'reload command failed (exit 3)'
	assert_output --partial 'was replaced, but not every interface was reloaded'
	run ranges_of "$ETC/config.json"
	assert_line --index 8 'amazon 198.18.0.0/15 | 2001:db8:400::/40'
}

@test "make install puts every file in place with the right modes" {
	local d=$BATS_TEST_TMPDIR/dest
	mk install DESTDIR="$d" PREFIX=/usr
	run bash -c "cd '$d' && find . -type f -printf '%m %p\n' | LC_ALL=C sort"
	assert_output - <<-'EOF'
	644 ./etc/default/texporter
	644 ./etc/texporter/config.json
	644 ./etc/texporter/static.json
	644 ./lib/systemd/system/texporter-load@.service
	644 ./lib/systemd/system/texporter-read.socket
	644 ./lib/systemd/system/texporter-read@.service
	644 ./lib/systemd/system/texporter-textfile.service
	644 ./lib/systemd/system/texporter-textfile.timer
	644 ./usr/share/doc/texporter/architecture.md
	644 ./usr/share/doc/texporter/deployment.md
	644 ./usr/share/doc/texporter/examples/inetd.conf
	644 ./usr/share/doc/texporter/examples/texporter-read-cap-bpf.conf
	644 ./usr/share/doc/texporter/examples/texporter-read-web-config.conf
	644 ./usr/share/doc/texporter/examples/texporter-read.xinetd
	644 ./usr/share/doc/texporter/examples/texporter.cron
	644 ./usr/share/doc/texporter/examples/web-config.yml
	644 ./usr/share/doc/texporter/grafana-dashboard.json
	644 ./usr/share/doc/texporter/prometheus.md
	644 ./usr/share/man/man8/texporter-load.8
	644 ./usr/share/man/man8/texporter-read.8
	644 ./usr/share/man/man8/texporter-update-ranges.8
	755 ./usr/bin/texporter-read
	755 ./usr/sbin/texporter-load
	755 ./usr/sbin/texporter-update-ranges
	EOF
	cmp "$BUILD/texporter-load" "$d/usr/sbin/texporter-load"
	cmp "$TX_REPO/scripts/config.default.json" "$d/etc/texporter/config.json"
}

@test "make install with another prefix points units and scripts at it" {
	local d=$BATS_TEST_TMPDIR/dest
	mk install DESTDIR="$d" PREFIX=/opt/tx sysconfdir=/opt/tx/etc
	grep -q '^ExecStart=/opt/tx/sbin/texporter-load ' "$d/lib/systemd/system/texporter-load@.service"
	grep -qx 'EnvironmentFile=-/opt/tx/etc/default/texporter' "$d/lib/systemd/system/texporter-load@.service"
	grep -qx 'ExecStart=/opt/tx/bin/texporter-read --inetd --pin-root /run/texporter' "$d/lib/systemd/system/texporter-read@.service"
	grep -q '^DEFAULT_LOADER = "/opt/tx/sbin/texporter-load"$' "$d/opt/tx/sbin/texporter-update-ranges"
	grep -q '^#!/usr/bin/python3$' "$d/opt/tx/sbin/texporter-update-ranges"
	grep -q '/opt/tx/bin/texporter-read --textfile' "$d/opt/tx/share/doc/texporter/examples/texporter.cron"
}

@test "make install keeps an existing config" {
	local d=$BATS_TEST_TMPDIR/dest
	mkdir -p "$d/etc/texporter"
	echo '[{"name": "mine", "ipv4": ["192.0.2.0/24"]}]' > "$d/etc/texporter/config.json"
	cp "$d/etc/texporter/config.json" "$BATS_TEST_TMPDIR/mine.json"
	run mk install DESTDIR="$d" PREFIX=/usr
	assert_success
	assert_output --partial "keeping $d/etc/texporter/config.json"
	cmp "$BATS_TEST_TMPDIR/mine.json" "$d/etc/texporter/config.json"
}

@test "make uninstall removes what make install put in place but a changed config" {
	local d=$BATS_TEST_TMPDIR/dest
	mk install DESTDIR="$d" PREFIX=/usr
	mk uninstall DESTDIR="$d" PREFIX=/usr
	run find "$d" -type f
	assert_output ''
	mk install DESTDIR="$d" PREFIX=/usr
	echo '[]' > "$d/etc/texporter/config.json"
	mk uninstall DESTDIR="$d" PREFIX=/usr
	run find "$d" -type f
	assert_output "$d/etc/texporter/config.json"
}

@test "the maintainer scripts pass shellcheck" {
	need shellcheck
	run shellcheck -s sh "$TX_REPO"/scripts/deb/postinst "$TX_REPO"/scripts/deb/prerm \
		"$TX_REPO"/scripts/deb/postrm
	assert_success
}

# The package is built once per test that needs it, into the test's own
# directory, so build/ only ever holds what `make` put there.
build_deb() {
	need dpkg-deb
	need dpkg-shlibdeps "Debian: apt-get install dpkg-dev"
	DEB=$BATS_TEST_TMPDIR/texporter.deb
	mk deb DEB_STAGE="$BATS_TEST_TMPDIR/stage" DEB_FILE="$DEB" >/dev/null
}

@test "make deb builds a package with its dependencies, conffiles and scripts" {
	build_deb
	run dpkg-deb -f "$DEB" Package Version Architecture
	assert_output - <<-EOF
	Package: texporter
	Version: $(cat "$TX_REPO/VERSION")
	Architecture: $(dpkg --print-architecture)
	EOF
	# libelf1 comes with libbpf1: the binaries use none of its symbols.
	run dpkg-deb -f "$DEB" Depends
	for dep in libbpf1 libcjson1 zlib1g libc6 libssl3 libyaml-0-2 libcrypt1 adduser python3; do
		assert_output --regexp "(^|, )$dep( |,|$)"
	done
	run dpkg-deb -I "$DEB" conffiles
	assert_output - <<-'EOF'
	/etc/default/texporter
	/etc/texporter/config.json
	/etc/texporter/static.json
	EOF
	run dpkg-deb -I "$DEB"
	assert_output --regexp 'postinst +#!/bin/sh'
	assert_output --regexp 'prerm +#!/bin/sh'
	assert_output --regexp 'postrm +#!/bin/sh'
	assert_output --regexp 'md5sums'
}

@test "make deb packages binaries, units, man pages and docs" {
	build_deb
	run bash -c "dpkg-deb -c '$DEB' | awk '{ print \$1, \$2, \$6 }' | grep -v '^d' | LC_ALL=C sort -k3"
	assert_output - <<-'EOF'
	-rw-r--r-- root/root ./etc/default/texporter
	-rw-r--r-- root/root ./etc/texporter/config.json
	-rw-r--r-- root/root ./etc/texporter/static.json
	-rw-r--r-- root/root ./lib/systemd/system/texporter-load@.service
	-rw-r--r-- root/root ./lib/systemd/system/texporter-read.socket
	-rw-r--r-- root/root ./lib/systemd/system/texporter-read@.service
	-rw-r--r-- root/root ./lib/systemd/system/texporter-textfile.service
	-rw-r--r-- root/root ./lib/systemd/system/texporter-textfile.timer
	lrwxrwxrwx root/root ./lib/systemd/system/texporter@.service
	-rwxr-xr-x root/root ./usr/bin/texporter-read
	-rwxr-xr-x root/root ./usr/sbin/texporter-load
	-rwxr-xr-x root/root ./usr/sbin/texporter-update-ranges
	-rw-r--r-- root/root ./usr/share/doc/texporter/architecture.md
	-rw-r--r-- root/root ./usr/share/doc/texporter/changelog.gz
	-rw-r--r-- root/root ./usr/share/doc/texporter/copyright
	-rw-r--r-- root/root ./usr/share/doc/texporter/deployment.md
	-rw-r--r-- root/root ./usr/share/doc/texporter/examples/inetd.conf
	-rw-r--r-- root/root ./usr/share/doc/texporter/examples/texporter-read-cap-bpf.conf
	-rw-r--r-- root/root ./usr/share/doc/texporter/examples/texporter-read-web-config.conf
	-rw-r--r-- root/root ./usr/share/doc/texporter/examples/texporter-read.xinetd
	-rw-r--r-- root/root ./usr/share/doc/texporter/examples/texporter.cron
	-rw-r--r-- root/root ./usr/share/doc/texporter/examples/web-config.yml
	-rw-r--r-- root/root ./usr/share/doc/texporter/grafana-dashboard.json
	-rw-r--r-- root/root ./usr/share/doc/texporter/prometheus.md
	-rw-r--r-- root/root ./usr/share/lintian/overrides/texporter
	-rw-r--r-- root/root ./usr/share/man/man8/texporter-load.8.gz
	-rw-r--r-- root/root ./usr/share/man/man8/texporter-read.8.gz
	-rw-r--r-- root/root ./usr/share/man/man8/texporter-update-ranges.8.gz
	EOF
}

@test "the packaged binaries are stripped and still run" {
	build_deb
	local x=$BATS_TEST_TMPDIR/x
	dpkg-deb -x "$DEB" "$x"
	run readelf -S "$x/usr/sbin/texporter-load"
	refute_output --partial '.debug_info'
	run "$x/usr/sbin/texporter-load" --version
	assert_success
	run "$x/usr/bin/texporter-read" --version
	assert_success
}

@test "the package passes lintian" {
	need lintian
	build_deb
	run lintian --fail-on error,warning "$DEB"
	assert_success
	refute_output --regexp '^[EW]: '
}

@test "systemctl enable texporter@eth0, the original texporter's unit name, enables texporter-load@eth0" {
	local d=$BATS_TEST_TMPDIR/dest
	mk install DESTDIR="$d" PREFIX=/usr
	run systemctl --root="$d" enable texporter@eth0
	assert_success
	assert_equal "$(readlink "$d/etc/systemd/system/multi-user.target.wants/texporter-load@eth0.service")" \
		/lib/systemd/system/texporter-load@.service
	assert_equal "$(readlink "$d/lib/systemd/system/texporter@.service")" texporter-load@.service
}
