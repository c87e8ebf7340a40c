#!/usr/bin/env bats
# texporter-load: what it attaches and pins, what it says, how it fails, and
# that --detach leaves nothing behind. Kernel state is read with bpftool, ip
# and tc inside NS_A, and with BPF_PROG_QUERY for TCX (bpftool before 7.3
# does not list TCX attachments).

load helpers

setup() {
	tx_setup_bpffs
	tx_setup_pair
	CONFIG=$BATS_TEST_TMPDIR/ranges.json
	tx_write_config "$CONFIG" "lan=$IP4_A,10.92.0.0/16,$IP6_A" "peer=$IP4_B"
	TEST_GROUP=
}

teardown() {
	tx_teardown
	if [[ -n $TEST_GROUP ]]; then
		groupdel "$TEST_GROUP" 2>/dev/null || true
	fi
}

# --- helpers of this file ---------------------------------------------------

load_a() {
	run tx_load "$NS_A" -i "$IF_A" -f "$CONFIG" "$@"
}


# XDP programs on IF_A, one "MODE PROG_ID" line each (driver/generic/offload).
xdp_attachments() {
	tx_in "$NS_A" bpftool -j net show dev "$IF_A" | "$PYTHON" -c '
import json, sys
for net in json.load(sys.stdin):
    for xdp in net.get("xdp", []):
        print(xdp["mode"], xdp["id"])'
}

# TCX attachments on IF_A in DIRECTION (ingress|egress), one "PROG_ID
# LINK_ID" line each, from BPF_PROG_QUERY on the interface in NS_A.
tcx_attachments() {
	tx_in "$NS_A" "$PYTHON" - "$IF_A" "$1" <<-'EOF'
		import ctypes, os, socket, struct, sys
		BPF_PROG_QUERY, BPF_TCX_INGRESS, BPF_TCX_EGRESS = 16, 46, 47
		SYS_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
		libc = ctypes.CDLL(None, use_errno=True)
		ifindex = socket.if_nametoindex(sys.argv[1])
		attach_type = BPF_TCX_INGRESS if sys.argv[2] == "ingress" else BPF_TCX_EGRESS
		progs, links = (ctypes.c_uint32 * 64)(), (ctypes.c_uint32 * 64)()
		# union bpf_attr, query: target_ifindex, attach_type, query_flags,
		# attach_flags, prog_ids, prog_cnt, pad, prog_attach_flags, link_ids,
		# link_attach_flags, revision
		attr = ctypes.create_string_buffer(struct.pack(
		    "IIIIQIIQQQQ", ifindex, attach_type, 0, 0, ctypes.addressof(progs), 64,
		    0, 0, ctypes.addressof(links), 0, 0), 128)
		if libc.syscall(SYS_BPF, BPF_PROG_QUERY, attr, 128) != 0:
		    sys.exit("BPF_PROG_QUERY: " + os.strerror(ctypes.get_errno()))
		for i in range(struct.unpack_from("I", attr.raw, 24)[0]):
		    print(progs[i], links[i])
	EOF
}

# Legacy tc filters on IF_A in DIRECTION, as `tc filter show` lists them.
tc_filters() {
	tx_in "$NS_A" tc filter show dev "$IF_A" "$1"
}

# "LINK_ID PROG_ID" of the link pinned as PIN_ROOT/IF_A/NAME.
pinned_link() {
	tx_in "$NS_A" bpftool -j link show pinned "$PIN_ROOT/$IF_A/$1" | "$PYTHON" -c '
import json, sys
link = json.load(sys.stdin)
print(link["id"], link["prog_id"])'
}

# Everything texporter attached to IF_A, for before/after comparisons.
attachments() {
	echo "xdp: $(xdp_attachments | tr '\n' ' ')"
	echo "tcx ingress: $(tcx_attachments ingress | tr '\n' ' ')"
	echo "tcx egress: $(tcx_attachments egress | tr '\n' ' ')"
	echo "tc ingress: $(tc_filters ingress | tr '\n' ' ')"
	echo "tc egress: $(tc_filters egress | tr '\n' ' ')"
}

# Prog ids and link ids the current attachments use.
attached_ids() {
	local line
	xdp_attachments | awk '{ print "prog", $2 }'
	for line in ingress egress; do
		tcx_attachments "$line" | awk '{ print "prog", $1; print "link", $2 }'
	done
	tc_filters egress | sed -n 's/.* id \([0-9]*\) .*/prog \1/p'
	tc_filters ingress | sed -n 's/.* id \([0-9]*\) .*/prog \1/p'
}

bpf_object_exists() {
	tx_in "$NS_A" bpftool "$1" show id "$2" >/dev/null 2>&1
}

bpf_object_gone() {
	! bpf_object_exists "$@"
}

# assert_objects_exist "prog ID" "link ID"...
assert_objects_exist() {
	local id kind number
	for id in "$@"; do
		read -r kind number <<<"$id"
		bpf_object_exists "$kind" "$number" || fail "no $kind with id $number"
	done
}

assert_nothing_pinned() {
	if [[ -e $PIN_ROOT ]]; then
		run find "$PIN_ROOT" -mindepth 1
		assert_output ""
	fi
}

assert_nothing_attached() {
	assert_equal "$(xdp_attachments)" ""
	assert_equal "$(tcx_attachments ingress)" ""
	assert_equal "$(tcx_attachments egress)" ""
	assert_equal "$(tc_filters ingress)" ""
	assert_equal "$(tc_filters egress)" ""
}

# A group that exists for this test only.
make_test_group() {
	TEST_GROUP=txg$(tx_random_suffix)
	groupadd "$TEST_GROUP"
}

# --- attaching --------------------------------------------------------------

@test "load prints one line saying what it attached and how" {
	load_a
	assert_success
	assert_output "$IF_A: attached: ingress xdp (native), egress $(tx_default_egress_words); 3 IPv4 + 1 IPv6 prefixes in 2 ranges; $(tx_default_dataplane)"
}

@test "load with --tc-mode legacy also prints only its one line" {
	load_a --xdp-mode generic --tc-mode legacy
	assert_success
	assert_output "$IF_A: attached: ingress xdp (generic), egress tc (legacy clsact); 3 IPv4 + 1 IPv6 prefixes in 2 ranges; $(tx_default_dataplane)"
}

@test "load makes exactly one XDP and one TCX attachment on the interface" {
	load_a
	assert_success
	local ingress egress
	read -r -a ingress <<<"$(pinned_link link_ingress)"
	read -r -a egress <<<"$(pinned_link link_egress)"
	assert_equal "$(xdp_attachments)" "driver ${ingress[1]}"
	assert_equal "$(tcx_attachments egress)" "${egress[1]} ${egress[0]}"
	assert_equal "$(tcx_attachments ingress)" ""
	assert_equal "$(tc_filters egress)" ""
	# Both pinned links exist in the kernel with those programs.
	run tx_in "$NS_A" bpftool link show id "${ingress[0]}"
	assert_output --regexp "^${ingress[0]}: xdp +prog ${ingress[1]}"
	run tx_in "$NS_A" bpftool prog show id "${ingress[1]}"
	assert_output --partial "name texporter_xdp"
	run tx_in "$NS_A" bpftool prog show id "${egress[1]}"
	assert_output --partial "name texporter_tc"
}

@test "loading twice attaches once, keeps the same links and says unchanged" {
	load_a
	assert_success
	local before
	before=$(attachments)
	local ingress_link egress_link
	ingress_link=$(pinned_link link_ingress)
	egress_link=$(pinned_link link_egress)
	load_a
	assert_success
	assert_output "$IF_A: unchanged: ingress xdp (native), egress $(tx_default_egress_words); 3 IPv4 + 1 IPv6 prefixes in 2 ranges; $(tx_default_dataplane)"
	assert_equal "$(pinned_link link_ingress)" "$ingress_link"
	assert_equal "$(pinned_link link_egress)" "$egress_link"
	assert_equal "$(attachments)" "$before"
	assert_equal "$(xdp_attachments | wc -l)" 1
	assert_equal "$(tcx_attachments egress | wc -l)" 1
}

@test "a reload that changes the modes still leaves one attachment per direction" {
	load_a
	assert_success
	load_a --xdp-mode generic --tc-mode legacy
	assert_success
	assert_equal "$(xdp_attachments | wc -l)" 1
	assert_equal "$(xdp_attachments | cut -d' ' -f1)" generic
	assert_equal "$(tcx_attachments egress)" ""
	assert_equal "$(tc_filters egress | grep -c 'texporter_tc')" 1
	load_a --ingress tc --tc-mode tcx
	assert_success
	assert_equal "$(xdp_attachments)" ""
	assert_equal "$(tcx_attachments ingress | wc -l)" 1
	assert_equal "$(tcx_attachments egress | wc -l)" 1
	assert_equal "$(tc_filters egress)" ""
	assert_equal "$(tc_filters ingress)" ""
}

# --- detaching --------------------------------------------------------------

@test "--detach leaves no pin, directory, program, link or attachment" {
	load_a
	assert_success
	local ids
	mapfile -t ids < <(attached_ids)
	if [[ $(tx_default_tc_mode) == tcx ]]; then
		assert_equal "${#ids[@]}" 3 # XDP prog, TCX prog and link
	else
		assert_equal "${#ids[@]}" 2 # XDP prog, legacy tc prog
	fi
	assert_objects_exist "${ids[@]}"
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	assert_output "$IF_A: detached"
	assert [ ! -e "$PIN_ROOT/$IF_A" ]
	assert_nothing_pinned
	assert_nothing_attached
	local id kind number
	for id in "${ids[@]}"; do
		read -r kind number <<<"$id"
		# Programs are freed a moment after their last reference goes.
		tx_wait_until 5 bpf_object_gone "$kind" "$number"
	done
}

@test "--detach of legacy tc and generic XDP leaves no filter, pin or program" {
	load_a --xdp-mode generic --tc-mode legacy
	assert_success
	local ids
	mapfile -t ids < <(attached_ids)
	assert_equal "${#ids[@]}" 2 # XDP prog, tc prog
	assert_objects_exist "${ids[@]}"
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	assert_output "$IF_A: detached"
	assert [ ! -e "$PIN_ROOT/$IF_A" ]
	assert_nothing_pinned
	assert_nothing_attached
	local id kind number
	for id in "${ids[@]}"; do
		read -r kind number <<<"$id"
		tx_wait_until 5 bpf_object_gone "$kind" "$number"
	done
}

@test "--detach that cannot remove a legacy tc filter fails, and the next --detach finishes" {
	load_a --ingress tc --tc-mode legacy
	assert_success
	# Root without CAP_NET_ADMIN may not change tc filters.
	run tx_in "$NS_A" setpriv --inh-caps=-net_admin --bounding-set=-net_admin -- \
		"$BUILD/texporter-load" --pin-root "$PIN_ROOT" -i "$IF_A" --detach
	assert_failure 1
	assert_output --partial "the tc filter is still attached; run texporter-load --detach again"
	refute_output --partial "detached"
	run tx_in "$NS_A" tc filter show dev "$IF_A" egress
	assert_output --partial "texporter"
	assert [ -d "$PIN_ROOT/$IF_A" ]
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	assert_output "$IF_A: detached"
	assert_nothing_pinned
	assert_nothing_attached
}

@test "--detach with --ingress tc leaves nothing" {
	load_a --ingress tc
	assert_success
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	assert_nothing_pinned
	assert_nothing_attached
}

@test "--detach on an interface with nothing loaded succeeds and says so" {
	run tx_load "$NS_A" -i "$IF_A" --detach
	assert_success
	assert_output --partial "$IF_A: nothing loaded"
	assert_nothing_pinned
}

# --- failing ----------------------------------------------------------------

@test "loading on a missing interface fails with exit 1, names it and pins nothing" {
	run tx_load "$NS_A" -i txnosuch0 -f "$CONFIG"
	assert_failure 1
	assert_output --partial "txnosuch0"
	assert_output --partial "not found"
	assert_nothing_pinned
	assert_nothing_attached
}

# --- status -----------------------------------------------------------------

@test "--status shows hook and mode, prefixes per family and counter slots" {
	load_a
	assert_success
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_success
	assert_line "$IF_A: ingress xdp (native), egress $(tx_default_egress_words)"
	assert_line --regexp '^  interface: present \(ifindex [0-9]+\), up$'
	assert_output --partial "prefixes: ipv4 3, ipv6 1"
	assert_line --regexp '^  counters: [1-9][0-9]* slots per CPU, 0 held; 0 pairs counted in the shared map; [0-9.]+ KiB of kernel memory$'
}

@test "--status shows the modes of a legacy tc and generic XDP attachment" {
	load_a --xdp-mode generic --tc-mode legacy
	assert_success
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_success
	assert_line "$IF_A: ingress xdp (generic), egress tc (legacy clsact)"
}

@test "--status without -i describes every loaded interface" {
	load_a
	assert_success
	run tx_load "$NS_A" --status
	assert_success
	assert_line "$IF_A: ingress xdp (native), egress $(tx_default_egress_words)"
}

@test "--status counts the counter slots traffic has used" {
	load_a
	assert_success
	run tx_in "$NS_A" ping -q -c 2 -i 0.05 -W 2 "$IP4_B"
	assert_success
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_line --regexp '^  counters: [1-9][0-9]* slots per CPU, 2 held; 0 pairs counted in the shared map;'
}

@test "--status says when the interface is gone" {
	load_a
	assert_success
	tx_in "$NS_A" ip link delete "$IF_A"
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_success
	assert_line --regexp '^  interface: missing'
	assert_output --partial "--detach"
}

@test "--status says when the interface was recreated" {
	load_a
	assert_success
	tx_in "$NS_A" ip link delete "$IF_A"
	ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_success
	assert_line --regexp '^  interface: recreated'
	assert_output --partial "reload"
}

@test "--status on an interface that is not loaded says so and exits 1" {
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_failure 1
	assert_output --partial "$IF_A: not loaded"
}

# --- pins -------------------------------------------------------------------

@test "pins have the documented modes: directory 0750, maps 0440, links 0600" {
	load_a
	assert_success
	assert_equal "$(stat -c %a "$PIN_ROOT/$IF_A")" 750
	local pin count=0
	for pin in "$PIN_ROOT/$IF_A"/*; do
		if [[ ${pin##*/} == link_* ]]; then
			tx_in "$NS_A" bpftool link show pinned "$pin" >/dev/null
			assert_equal "${pin##*/} $(stat -c '%a %U' "$pin")" "${pin##*/} 600 root"
		else
			tx_in "$NS_A" bpftool map show pinned "$pin" >/dev/null
			assert_equal "${pin##*/} $(stat -c '%a %U' "$pin")" "${pin##*/} 440 root"
		fi
		count=$((count + 1))
	done
	((count >= 4))
	assert [ -e "$PIN_ROOT/$IF_A/link_ingress" ]
	assert [ -e "$PIN_ROOT/$IF_A/link_egress" ]
}

@test "--group gives that group read access to the directory and maps, not the links" {
	make_test_group
	load_a --group "$TEST_GROUP"
	assert_success
	assert_equal "$(stat -c '%a %U:%G' "$PIN_ROOT/$IF_A")" "750 root:$TEST_GROUP"
	local pin
	for pin in "$PIN_ROOT/$IF_A"/*; do
		if [[ ${pin##*/} == link_* ]]; then
			assert_equal "${pin##*/} $(stat -c '%a %U:%G' "$pin")" "${pin##*/} 600 root:root"
		else
			assert_equal "${pin##*/} $(stat -c '%a %U:%G' "$pin")" "${pin##*/} 440 root:$TEST_GROUP"
		fi
	done
}

@test "an unknown --group is a usage error (exit 2) that pins nothing" {
	load_a --group txnosuchgroup
	assert_failure 2
	assert_output --partial '"txnosuchgroup"'
	assert_nothing_pinned
	assert_nothing_attached
}

# --- usage ------------------------------------------------------------------

@test "an unknown flag is a usage error (exit 2)" {
	load_a --frobnicate
	assert_failure 2
	assert_output --partial "--frobnicate"
	assert_nothing_pinned
}

@test "a bad --ingress, --xdp-mode, --tc-mode or --log-level value is a usage error (exit 2)" {
	local option
	for option in --ingress --xdp-mode --tc-mode --log-level; do
		load_a "$option" bogus
		assert_failure 2
		assert_output --partial "$option"
		assert_output --partial '"bogus"'
	done
	assert_nothing_pinned
	assert_nothing_attached
}

@test "no -i is a usage error (exit 2)" {
	run tx_load "$NS_A" -f "$CONFIG"
	assert_failure 2
	assert_output --partial "-i IFACE"
	run tx_load "$NS_A" --detach
	assert_failure 2
	assert_nothing_pinned
}

@test "an interface name with a slash, or too long, is a usage error (exit 2)" {
	local name
	for name in a/b ../txa0 txa0/ 0123456789abcdef ""; do
		run tx_load "$NS_A" -i "$name" -f "$CONFIG"
		assert_failure 2
		assert_output --partial "bad value \"$name\": not an interface name"
	done
	assert_nothing_pinned
}

@test "--check, --status and --detach together are a usage error that changes nothing" {
	load_a
	assert_success
	local before combination
	before=$(attachments)
	for combination in "--check --detach" "--status --detach" "--detach --status" \
		"--detach --check" "--check --status"; do
		# shellcheck disable=SC2086 # the combination is two flags
		run tx_load "$NS_A" -i "$IF_A" -f "$CONFIG" $combination
		[[ $status == 2 ]] || fail "$combination: exit $status, want 2: $output"
		assert [ -e "$PIN_ROOT/$IF_A/link_ingress" ]
		assert_equal "$(attachments)" "$before"
	done
}

@test "--help and --version exit 0" {
	run "$BUILD/texporter-load" --help
	assert_success
	assert_output --partial "Usage: texporter-load"
	run "$BUILD/texporter-load" -h
	assert_success
	run "$BUILD/texporter-load" --version
	assert_success
	assert_output --regexp '^texporter-load [0-9]+\.[0-9]+'
	run "$BUILD/texporter-load" -V
	assert_success
}
