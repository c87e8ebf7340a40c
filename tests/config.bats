#!/usr/bin/env bats
# The range config: `texporter-load --check -f FILE` rejects every class of
# bad file with exit 2 and a message that names the file, the range, the
# entry and the reason; good files pass; a bad file given to a real load
# changes nothing. Fixtures: tests/data/config/.

load helpers

setup() {
	DATA=$TX_REPO/tests/data/config
	PUBLIC_DIR=
}

teardown() {
	tx_teardown
	if [[ -n $PUBLIC_DIR ]]; then
		rm -rf "$PUBLIC_DIR"
	fi
}

# --- helpers of this file ---------------------------------------------------

check_config() {
	run "$BUILD/texporter-load" --check -f "$1"
}

# check_fails FIXTURE: --check on tests/data/config/FIXTURE exits 2.
check_fails() {
	check_config "$DATA/$1"
	assert_failure 2
}

# A directory every user can read, outside the test's private tmp dir (whose
# parents only root may enter), for runs as nobody. Sets PUBLIC_DIR.
make_public_dir() {
	PUBLIC_DIR=$(mktemp -d /tmp/texporter-config-test.XXXXXX)
	chmod 755 "$PUBLIC_DIR"
	cp "$BUILD/texporter-load" "$PUBLIC_DIR/"
}

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

BAD_FIXTURES=(bad-cidr bad-utf8-name control-char-name dup-key dup-name empty
	long-name many-errors missing-name not-array nul-escape prefix-too-long
	same-prefix-two-names syntax v6-in-v4 wrong-type)

# --- bad files --------------------------------------------------------------

@test "every bad config fixture exits 2 and every error line names the file" {
	local fixture line
	for fixture in "${BAD_FIXTURES[@]}"; do
		check_fails "$fixture.json"
		refute_output --partial ": ok:"
		assert_line --partial "texporter-load: error: $DATA/$fixture.json"
		for line in "${lines[@]}"; do
			[[ $line == "texporter-load: "*": $DATA/$fixture.json"[:\ ]* ]] ||
				fail "$fixture.json: a message that does not name the file: $line"
		done
	done
}

@test "a JSON syntax error names the line and column" {
	check_fails syntax.json
	assert_output "texporter-load: error: $DATA/syntax.json:6:3: invalid JSON near \"{\""
}

@test "a range without a name is an error naming the range" {
	check_fails missing-name.json
	assert_output "texporter-load: error: $DATA/missing-name.json: range #2: missing \"name\""
}

@test "a duplicate name is an error naming both ranges" {
	check_fails dup-name.json
	assert_output "texporter-load: error: $DATA/dup-name.json: range #3: name \"zoom\" is already used by range #1"
}

@test "a duplicate key inside a range is an error" {
	check_fails dup-key.json
	assert_line --partial 'range "zoom": key "ipv4" appears more than once'
	assert_line --partial 'range #2: key "name" appears more than once'
	assert_equal "${#lines[@]}" 2
}

@test "a malformed CIDR is an error naming the range, the entry and the reason" {
	check_fails bad-cidr.json
	# One message per bad entry: 13 IPv4, 3 IPv6.
	assert_equal "${#lines[@]}" 16
	assert_line --partial 'range "bad": ipv4[0] " 10.0.0.0/8" has leading or trailing whitespace'
	assert_line --partial 'range "bad": ipv4[2] "1.2.3.4/" has no prefix length after the '\''/'\'''
	assert_line --partial 'range "bad": ipv4[3] "/24" has no address before the '\''/'\'''
	assert_line --partial 'range "bad": ipv4[5] "1.2.3.4/08" has a prefix length with a leading zero'
	assert_line --partial 'range "bad": ipv4[7] "300.1.1.1" is not a valid IPv4 address or prefix'
	assert_line --partial 'range "bad": ipv4[8] "01.2.3.4" is not a valid IPv4 address or prefix'
	assert_line --partial 'range "bad": ipv4[9] "10.0.0.0/255.0.0.0" has a netmask after the '\''/'\'''
	assert_line --partial 'range "bad": ipv4[11] "" is empty'
	assert_line --partial 'range "bad": ipv4[12] "example.com" is not a valid IPv4 address or prefix'
	assert_line --partial 'range "bad": ipv6[1] "2001:db8:::1" is not a valid IPv6 address or prefix'
	assert_line --partial 'range "bad": ipv6[2] "fe80::1%eth0" has a zone index'
}

@test "a prefix length out of range is an error for either family" {
	check_fails prefix-too-long.json
	assert_line --partial 'range "v4": ipv4[0] "1.2.3.4/33" has a prefix length above 32, the IPv4 maximum'
	assert_line --partial 'range "v6": ipv6[0] "2001:db8::/129" has a prefix length above 128, the IPv6 maximum'
	assert_equal "${#lines[@]}" 2
}

@test "the same prefix under two names is an error naming both, after normalising host bits" {
	check_fails same-prefix-two-names.json
	assert_line --partial 'prefix 10.0.0.0/8 is in range "corp" (ipv4[0]) and in range "lab" (ipv4[0]); a prefix can belong to one range only'
	assert_line --partial 'prefix 2001:db8::/32 is in range "corp" (ipv6[0]) and in range "vpn" (ipv6[0])'
	assert_line --partial 'warn: '"$DATA"'/same-prefix-two-names.json: range "lab": ipv4[0] "10.1.2.3/8" has host bits set; using 10.0.0.0/8'
}

@test "wrong types are errors naming the range and the entry" {
	check_fails wrong-type.json
	assert_line --partial 'range #1 is a string; each range must be an object'
	assert_line --partial 'range #2: "name" is a number; it must be a string'
	assert_line --partial 'range "youtube": "ipv4" is a string; it must be an array of strings'
	assert_line --partial 'range "google": ipv4[1] is a number; it must be a string'
	assert_line --partial 'range "google": ipv4[2] is null; it must be a string'
	assert_line --partial 'range "google": "ipv6" is an object; it must be an array of strings'
	assert_equal "${#lines[@]}" 6
}

@test "a top level that is not an array is an error" {
	check_fails not-array.json
	assert_output --partial "$DATA/not-array.json: the top level is an object; a range config is an array of ranges"
}

@test "an empty file is an error" {
	check_fails empty.json
	assert_output "texporter-load: error: $DATA/empty.json: is empty; expected a JSON array of ranges"
}

@test "a file of only whitespace is an error" {
	local file=$BATS_TEST_TMPDIR/blank.json
	printf ' \n\t\n' >"$file"
	check_config "$file"
	assert_failure 2
	assert_output --partial "$file"
}

@test "an unreadable file is an error naming the file" {
	make_public_dir
	cp "$DATA/good.json" "$PUBLIC_DIR/secret.json"
	chmod 000 "$PUBLIC_DIR/secret.json"
	run as_nobody "$PUBLIC_DIR/texporter-load" --check -f "$PUBLIC_DIR/secret.json"
	assert_failure 2
	assert_output "texporter-load: error: $PUBLIC_DIR/secret.json: cannot open: Permission denied"
}

@test "a missing file is an error naming the file" {
	check_config "$BATS_TEST_TMPDIR/no-such.json"
	assert_failure 2
	assert_output "texporter-load: error: $BATS_TEST_TMPDIR/no-such.json: cannot open: No such file or directory"
}

@test "a directory given as the config is an error" {
	check_config "$DATA"
	assert_failure 2
	assert_output "texporter-load: error: $DATA: is a directory, not a range config file"
}

@test "an IPv6 prefix in the ipv4 list is an error, and the reverse" {
	check_fails v6-in-v4.json
	assert_line --partial 'range "mixed": ipv4[0] "2001:db8::/32" is an IPv6 prefix; it belongs in the "ipv6" list'
	assert_line --partial 'range "mixed": ipv4[1] "::ffff:192.0.2.1" is an IPv6 address; it belongs in the "ipv6" list'
	assert_line --partial 'range "mixed": ipv6[0] "192.0.2.0/24" is an IPv4 prefix; it belongs in the "ipv4" list'
	assert_line --partial 'range "mixed": ipv6[1] "198.51.100.7" is an IPv4 address; it belongs in the "ipv4" list'
	assert_equal "${#lines[@]}" 4
}

@test "a control character in a name is an error, shown escaped" {
	check_fails control-char-name.json
	assert_line --partial 'range #1: name "zo\x09om" contains the control character U+0009 at offset 2'
	assert_line --partial 'range #2: name "bell\x07" contains the control character U+0007 at offset 4'
	assert_line --partial 'range #3: name "c1\u0085" contains the control character U+0085 at offset 2'
	assert_equal "${#lines[@]}" 3
}

@test "a NUL escape in a string is an error with line and column" {
	check_fails nul-escape.json
	assert_output --partial "$DATA/nul-escape.json:2:41: \"\\u0000\" (a NUL character) is not allowed"
}

@test "a name that is not valid UTF-8 is an error" {
	check_fails bad-utf8-name.json
	assert_output --partial 'range #1: name "bad\xffbyte" is not valid UTF-8 (byte 0xff at offset 3)'
}

@test "a name over 63 bytes, or an empty name, is an error; 63 bytes is fine" {
	check_fails long-name.json
	assert_line --partial 'range #1: name "0123456789012345678901234567890123456789012345678901234567890123" is 64 bytes long; at most 63 are allowed'
	assert_line --partial 'range #3: name "" is empty'
	refute_output --partial 'range #2'
	assert_equal "${#lines[@]}" 2
}

@test "many errors are listed up to a limit, then counted" {
	check_fails many-errors.json
	assert_line --partial 'range "bad0": ipv4[0] "10.0.0.0/33" has a prefix length above 32'
	assert_line --partial "$DATA/many-errors.json: ... and 10 more errors"
	assert_equal "${#lines[@]}" 21
}

@test "--check rejects a range named like the unmatched range, as a load does" {
	local file=$BATS_TEST_TMPDIR/other.json
	tx_write_config "$file" "other=192.0.2.0/24" "peer=198.51.100.0/24"
	check_config "$file"
	assert_failure 2
	assert_output --partial "$file: range \"other\" has the name of the unmatched range"
	run "$BUILD/texporter-load" --check --unmatched-name elsewhere -f "$file"
	assert_success
}

# --- good files -------------------------------------------------------------

@test "good.json passes --check with exit 0 and a summary" {
	check_config "$DATA/good.json"
	assert_success
	assert_line "$DATA/good.json: ok: 5 ranges, 7 IPv4 + 6 IPv6 prefixes; range table 516 KiB"
}

@test "the same ranges in another order and spelling pass the same way" {
	check_config "$DATA/good-reordered.json"
	assert_success
	assert_line "$DATA/good-reordered.json: ok: 5 ranges, 7 IPv4 + 6 IPv6 prefixes; range table 516 KiB"
}

@test "host bits, unknown keys and repeated prefixes are warnings, not errors" {
	check_config "$DATA/warnings.json"
	assert_success
	assert_line --partial 'range "hosts": unknown key "comment" ignored'
	assert_line --partial 'range "hosts": ipv4[0] "10.1.2.3/8" has host bits set; using 10.0.0.0/8'
	assert_line --partial 'range "hosts": ipv6[0] "2001:db8::1/32" has host bits set; using 2001:db8::/32'
	assert_line --partial 'range "nothing yet" has no prefixes'
	refute_output --partial "error:"
	assert_line --regexp "^$DATA/warnings.json: ok: 3 ranges, 3 IPv4 \+ 1 IPv6 prefixes; range table [0-9]+ KiB\$"
}

@test "the shared public ranges file passes --check" {
	local file=$TX_REPO/../shared/data/public-ranges.json
	[[ -r $file ]] || skip "no $file"
	check_config "$file"
	assert_success
	assert_line --regexp ": ok: [0-9]+ ranges, [0-9]+ IPv4 \+ [0-9]+ IPv6 prefixes; range table [0-9]+ KiB$"
	refute_output --partial "error:"
}

@test "--check works as an unprivileged user" {
	make_public_dir
	cp "$DATA/good.json" "$PUBLIC_DIR/good.json"
	chmod 644 "$PUBLIC_DIR/good.json"
	run as_nobody "$PUBLIC_DIR/texporter-load" --check -f "$PUBLIC_DIR/good.json"
	assert_success
	assert_line "$PUBLIC_DIR/good.json: ok: 5 ranges, 7 IPv4 + 6 IPv6 prefixes; range table 516 KiB"
	cp "$DATA/dup-name.json" "$PUBLIC_DIR/bad.json"
	chmod 644 "$PUBLIC_DIR/bad.json"
	run as_nobody "$PUBLIC_DIR/texporter-load" --check -f "$PUBLIC_DIR/bad.json"
	assert_failure 2
	assert_output --partial 'range #3: name "zoom" is already used by range #1'
}

# --- a bad file on a loaded interface --------------------------------------

# What a loaded interface looks like from outside: the metrics (less the
# scrape time), the pinned links with their programs, the XDP program on
# the interface, the pins with their modes.
loaded_state() {
	tx_read "$NS_A" | grep -v '^texporter_scrape_duration_seconds'
	local link
	for link in "$PIN_ROOT/$IF_A"/link_*; do
		echo "$link: $(tx_in "$NS_A" bpftool link show pinned "$link")"
	done
	tx_in "$NS_A" bpftool net show dev "$IF_A"
	tx_in "$NS_A" tc filter show dev "$IF_A" egress
	(cd "$PIN_ROOT" && stat -c '%n %a %U:%G %i' . "$IF_A" "$IF_A"/*)
	tx_load "$NS_A" --status -i "$IF_A"
}

@test "a bad config given to a load on a loaded interface changes nothing" {
	tx_setup_bpffs
	tx_setup_pair
	local config=$BATS_TEST_TMPDIR/ranges.json before fixture
	tx_write_config "$config" "lan=$IP4_A,$IP6_A" "peer=$IP4_B,$IP6_B"
	run tx_load "$NS_A" -i "$IF_A" -f "$config"
	assert_success
	run tx_in "$NS_A" ping -q -c 3 -i 0.05 -W 2 "$IP4_B"
	assert_success
	before=$(loaded_state)
	[[ $before == *'texporter_captured_packets_total{iface="txa0",family="ipv4",src="lan",dst="peer"} 3'* ]] ||
		fail "unexpected state before: $before"
	for fixture in "${BAD_FIXTURES[@]}"; do
		run tx_load "$NS_A" -i "$IF_A" -f "$DATA/$fixture.json"
		assert_failure 2
		assert_output --partial "$DATA/$fixture.json"
		assert_equal "$(loaded_state)" "$before"
	done
	run tx_load "$NS_A" -i "$IF_A" -f "$BATS_TEST_TMPDIR/no-such.json"
	assert_failure 2
	assert_equal "$(loaded_state)" "$before"
	# With other options changed as well: still nothing changes.
	run tx_load "$NS_A" -i "$IF_A" -f "$DATA/dup-name.json" --xdp-mode generic \
		--tc-mode legacy --unmatched-name elsewhere
	assert_failure 2
	assert_equal "$(loaded_state)" "$before"
}

# 540,000 IPv4 /25s, each in a /24 of its own: with the /16 and /24 nodes
# they need, 139 million entries, more than the 2^27 (512 MiB) a BPF
# program can index.
write_oversized_config() { # FILE
	"$PYTHON" - "$1" <<-'EOF'
		import json, sys
		prefixes = ["%d.%d.%d.128/25" % (10 + i // 65536, i // 256 % 256, i % 256)
		            for i in range(540000)]
		with open(sys.argv[1], "w") as f:
		    json.dump([{"name": "many", "ipv4": prefixes}], f)
	EOF
}

@test "a config whose range table would pass 512 MiB fails --check and a load, changing nothing" {
	local huge=$BATS_TEST_TMPDIR/huge.json config=$BATS_TEST_TMPDIR/ranges.json before
	write_oversized_config "$huge"
	check_config "$huge"
	assert_failure 2
	assert_output --partial "$huge: cannot build the range table: it would take more than 512 MiB"
	tx_setup_bpffs
	tx_setup_pair
	tx_write_config "$config" "lan=$IP4_A,$IP6_A" "peer=$IP4_B,$IP6_B"
	run tx_load "$NS_A" -i "$IF_A" -f "$config"
	assert_success
	before=$(loaded_state)
	run tx_load "$NS_A" -i "$IF_A" -f "$huge"
	assert_failure 2
	assert_output --partial "cannot build the range table: it would take more than 512 MiB"
	assert_equal "$(loaded_state)" "$before"
}
