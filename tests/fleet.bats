#!/usr/bin/env bats
# texporter-load on several interfaces at once: -i repeated and as a shell
# pattern for a load, --status and --detach, --allow-missing, and --group
# as a numeric GID. NS_A holds two veth ends of two pairs (txa0, txa1) and
# veth (txz0, its peer txz1 beside it) that the patterns here must leave
# alone.

load helpers

IF_A1=txa1
IF_B1=txb1
IP4_A1=10.91.1.1
IP4_B1=10.91.1.2
IF_Z=txz0

setup() {
	tx_setup_bpffs
	tx_setup_pair
	ip link add "$IF_A1" netns "$NS_A" type veth peer name "$IF_B1" netns "$NS_B"
	tx_configure_side "$NS_A" "$IF_A1" 02:91:00:00:01:0a "$IP4_A1" fd00:91:1::1 \
		02:91:00:00:01:0b "$IP4_B1" fd00:91:1::2
	tx_configure_side "$NS_B" "$IF_B1" 02:91:00:00:01:0b "$IP4_B1" fd00:91:1::2 \
		02:91:00:00:01:0a "$IP4_A1" fd00:91:1::1
	tx_in "$NS_A" ip link set dev "$IF_A1" up
	tx_in "$NS_B" ip link set dev "$IF_B1" up
	tx_wait_until 5 tx_link_has_carrier "$NS_A" "$IF_A1"
	tx_in "$NS_A" ip link add "$IF_Z" type veth peer name txz1
	CONFIG=$BATS_TEST_TMPDIR/ranges.json
	tx_write_config "$CONFIG" "lan=10.91.0.0/16" "peer=$IP4_B,$IP4_B1"
}

teardown() {
	[[ -n ${NS_A:-} && -d ${PIN_ROOT:-} ]] && tx_load "$NS_A" --detach -i '*' >/dev/null 2>&1
	tx_teardown
}

load_a() {
	run tx_load "$NS_A" -f "$CONFIG" "$@"
}

# The interfaces with pins, one per line.
pinned() {
	[[ -d $PIN_ROOT ]] || return 0
	find "$PIN_ROOT" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort
}

attached_line() {
	echo "$1: attached: ingress xdp (native), egress $(tx_default_egress_words); 3 IPv4 + 0 IPv6 prefixes in 2 ranges; $(tx_default_dataplane)"
}

# --- several interfaces -----------------------------------------------------

@test "-i 'txa*' loads every interface that matches, one line each, and no other" {
	load_a -i 'txa*'
	assert_success
	assert_output "$(attached_line "$IF_A")
$(attached_line "$IF_A1")"
	assert_equal "$(pinned)" "$IF_A
$IF_A1"
}

@test "interfaces loaded by one pattern count exactly, each under its own iface" {
	load_a -i 'txa[0-9]'
	assert_success
	tx_ping_b ipv4 5 100
	run tx_in "$NS_A" ping -q -c 3 -s 100 -i 0.05 -W 2 "$IP4_B1"
	assert_success
	run tx_read "$NS_A"
	assert_success
	assert_line "texporter_captured_packets_total{iface=\"$IF_A\",family=\"ipv4\",src=\"lan\",dst=\"peer\"} 5"
	assert_line "texporter_captured_bytes_total{iface=\"$IF_A\",family=\"ipv4\",src=\"lan\",dst=\"peer\"} $((5 * 128))"
	assert_line "texporter_captured_packets_total{iface=\"$IF_A1\",family=\"ipv4\",src=\"lan\",dst=\"peer\"} 3"
	assert_line "texporter_captured_bytes_total{iface=\"$IF_A1\",family=\"ipv4\",src=\"peer\",dst=\"lan\"} $((3 * 128))"
}

@test "--status and --detach match patterns against what is loaded; --detach -i '*' leaves nothing" {
	load_a -i "$IF_A" -i "$IF_A1" -i "$IF_Z"
	assert_success
	run tx_load "$NS_A" --status -i 'txa*'
	assert_success
	assert_line --regexp "^$IF_A: ingress xdp"
	assert_line --regexp "^$IF_A1: ingress xdp"
	refute_line --regexp "^$IF_Z:"
	run tx_load "$NS_A" --detach -i 'txa*'
	assert_success
	assert_output "$IF_A: detached
$IF_A1: detached"
	assert_equal "$(pinned)" "$IF_Z"
	# Gone from the namespace, still loaded: --detach finds it by its pins.
	tx_in "$NS_A" ip link del "$IF_Z"
	run tx_load "$NS_A" --detach -i '*'
	assert_success
	assert_output "$IF_Z: detached"
	assert_equal "$(pinned)" ""
}

@test "an interface that several patterns match is loaded once" {
	load_a -i 'txa*' -i "$IF_A" -i '*a0'
	assert_success
	assert_output "$(attached_line "$IF_A")
$(attached_line "$IF_A1")"
}

@test "a pattern that matches nothing exits 1 and loads nothing" {
	load_a -i 'txa*' -i 'eth9*'
	assert_failure 1
	assert_output "texporter-load: error: -i eth9*: no interface of this network namespace matches (pass --allow-missing to accept that)"
	assert_equal "$(pinned)" ""
	run tx_load "$NS_A" --detach -i 'txa*'
	assert_failure 1
	assert_output --partial "-i txa*: no interface loaded under the pin root matches"
}

@test "--allow-missing skips a pattern or a name that matches nothing and loads the rest" {
	load_a -i 'eth9*' -i txnosuch0 -i "$IF_A" --allow-missing
	assert_success
	assert_line "texporter-load: info: -i eth9*: no interface of this network namespace matches; skipped (--allow-missing)"
	assert_line "texporter-load: info: txnosuch0: no such interface; skipped (--allow-missing)"
	assert_line "$(attached_line "$IF_A")"
	assert_equal "$(pinned)" "$IF_A"
	run tx_load "$NS_A" --detach -i 'txz*' --allow-missing
	assert_success
	run tx_load "$NS_A" --status -i "$IF_A1" --allow-missing
	assert_success
	assert_output "texporter-load: info: $IF_A1: not loaded; skipped (--allow-missing)"
}

@test "a missing plain name fails as before while the other interfaces load: the exit status is the worst" {
	load_a -i "$IF_A" -i txnosuch0 -i "$IF_A1"
	assert_failure 1
	assert_line "$(attached_line "$IF_A")"
	assert_line --partial "interface txnosuch0 not found"
	assert_line "$(attached_line "$IF_A1")"
	assert_equal "$(pinned)" "$IF_A
$IF_A1"
}

@test "a config error stops at the first interface: exit 2, said once, nothing loaded" {
	echo '[{"name": "lan", "ipv4": ["10.91.0.0/33"]}]' >"$CONFIG"
	load_a -i 'txa*'
	assert_failure 2
	assert_equal "$(grep -c 'error' <<<"$output")" 1
	assert_equal "$(pinned)" ""
}

@test "a reload by pattern reloads each interface, counters kept" {
	load_a -i 'txa*'
	assert_success
	tx_ping_b ipv4 2 100
	tx_write_config "$CONFIG" "lan=10.91.0.0/16" "peer=$IP4_B,$IP4_B1" "more=10.99.0.0/16"
	load_a -i 'txa*'
	assert_success
	assert_line --regexp "^$IF_A: reloaded: "
	assert_line --regexp "^$IF_A1: reloaded: "
	run tx_read "$NS_A"
	assert_line "texporter_captured_packets_total{iface=\"$IF_A\",family=\"ipv4\",src=\"lan\",dst=\"peer\"} 2"
}

@test "the template unit's commands still work on one interface beside others loaded" {
	local unit=$TX_REPO/systemd/texporter-load@.service start stop
	load_a -i "$IF_A"
	assert_success
	# ExecStart and ExecStop as systemd runs them for texporter-load@txa1.
	start=$(sed -n 's/^ExecStart=//p' "$unit")
	stop=$(sed -n 's/^ExecStop=//p' "$unit")
	for cmd in "$start" "$stop"; do
		cmd=${cmd//%I/$IF_A1}
		cmd=${cmd//\$\{TEXPORTER_CONFIG\}/$CONFIG}
		cmd=${cmd//\$\{TEXPORTER_PIN_ROOT\}/$PIN_ROOT}
		cmd=${cmd//\$TEXPORTER_LOAD_OPTS/}
		cmd=${cmd//\/usr\/sbin\/texporter-load/$BUILD/texporter-load}
		# shellcheck disable=SC2086 # the unit's words
		run tx_in "$NS_A" $cmd
		assert_success
	done
	assert_equal "$(pinned)" "$IF_A"
}

# --- --group ----------------------------------------------------------------

@test "--group 4242 gives pins of group 4242 with no such group in /etc/group" {
	getent group 4242 >/dev/null && skip "a group named 4242 exists here"
	load_a -i "$IF_A" --group 4242
	assert_success
	run stat -c '%n %g %a' "$PIN_ROOT/$IF_A" "$PIN_ROOT/$IF_A/meta" "$PIN_ROOT/$IF_A/counters" \
		"$PIN_ROOT/$IF_A/link_ingress"
	assert_output "$PIN_ROOT/$IF_A 4242 750
$PIN_ROOT/$IF_A/meta 4242 440
$PIN_ROOT/$IF_A/counters 4242 440
$PIN_ROOT/$IF_A/link_ingress 0 600"
	tx_ping_b ipv4 3 100
	# Bats' directories above the bpffs are root's alone (0700).
	local dir=$TX_BPFFS
	while [[ $dir != "$BATS_RUN_TMPDIR" && $dir == "$BATS_RUN_TMPDIR"/* ]]; do
		dir=${dir%/*}
		chmod o+x "$dir"
	done
	run setpriv --reuid=65534 --regid=65534 --groups=4242 $(tx_reader_caps) -- \
		"$BUILD/texporter-read" --pin-root "$PIN_ROOT"
	assert_success
	assert_line "texporter_captured_packets_total{iface=\"$IF_A\",family=\"ipv4\",src=\"lan\",dst=\"peer\"} 3"
}

@test "--group beyond the last GID is a usage error (exit 2) that names the fix" {
	load_a -i "$IF_A" --group 4294967295
	assert_failure 2
	assert_output "texporter-load: error: group \"4294967295\" is not in /etc/group (--group); create it (groupadd, or addgroup on Alpine), name another or give a numeric GID (0-4294967294)"
	assert_equal "$(pinned)" ""
}

# --- usage ------------------------------------------------------------------

@test "a pattern with '/' is a usage error (exit 2)" {
	load_a -i 'txa/*'
	assert_failure 2
	assert_output --partial "--interface-name: bad value \"txa/*\": not an interface pattern (1-255 bytes, no '/')"
}
