#!/usr/bin/env bats
# texporter-load's inputs that are not what they seem: a --pin-root that is
# not a bpffs directory of root's (directly or through a symlink) is left
# exactly as it was; a config that is a FIFO is refused at once; a FIFO or
# file where a pin should be is named for what it is.

load helpers

setup() {
	tx_setup_bpffs
	tx_setup_pair
	CONFIG=$BATS_TEST_TMPDIR/ranges.json
	tx_write_config "$CONFIG" "lan=$IP4_A" "peer=$IP4_B"
	TMPFS=$BATS_TEST_TMPDIR/tmpfs
	mkdir "$TMPFS"
	mount -t tmpfs -o mode=0700 tmpfs "$TMPFS"
}

teardown() {
	umount "$TMPFS" 2>/dev/null || true
	tx_teardown
}

# load_with_root ROOT: a load with --pin-root ROOT.
load_with_root() {
	run tx_in "$NS_A" "$BUILD/texporter-load" --pin-root "$1" -i "$IF_A" -f "$CONFIG"
}

@test "a --pin-root on tmpfs is refused and keeps its mode 0700" {
	load_with_root "$TMPFS"
	assert_failure 1
	assert_output --partial "pin root $TMPFS is not on a bpffs"
	assert_output --partial "it was left as it is"
	assert_equal "$(stat -c %a "$TMPFS")" 700
	run ls -A "$TMPFS"
	assert_output ""
}

@test "a --pin-root that is a symlink to a tmpfs directory is refused and the directory keeps its mode" {
	ln -s "$TMPFS" "$BATS_TEST_TMPDIR/link"
	load_with_root "$BATS_TEST_TMPDIR/link"
	assert_failure 1
	assert_output --partial "is not on a bpffs"
	assert_equal "$(stat -c %a "$TMPFS")" 700
}

@test "a missing --pin-root below a tmpfs is not created" {
	load_with_root "$TMPFS/a/b"
	assert_failure 1
	assert_output --partial "does not exist and is not below a bpffs"
	[[ ! -e $TMPFS/a ]] || fail "created $TMPFS/a"
}

@test "a --pin-root on bpffs owned by another user is refused and keeps owner and mode" {
	mkdir -m 0700 "$TX_BPFFS/other"
	chown nobody "$TX_BPFFS/other"
	load_with_root "$TX_BPFFS/other"
	assert_failure 1
	assert_output --partial "is owned by uid $(id -u nobody), not root"
	assert_equal "$(stat -c '%a %U' "$TX_BPFFS/other")" "700 nobody"
}

@test "a --pin-root on bpffs of root's is made 0755 and used, also through a symlink" {
	mkdir -m 0700 "$TX_BPFFS/mine"
	ln -s "$TX_BPFFS/mine" "$BATS_TEST_TMPDIR/mine"
	load_with_root "$BATS_TEST_TMPDIR/mine"
	assert_success
	assert_equal "$(stat -c %a "$TX_BPFFS/mine")" 755
	[[ -e $TX_BPFFS/mine/$IF_A/meta ]] || fail "no meta pinned"
	run tx_in "$NS_A" "$BUILD/texporter-load" --pin-root "$BATS_TEST_TMPDIR/mine" -i "$IF_A" --detach
	assert_success
}

@test "a FIFO as config is refused at once by --check and by a load, which changes nothing" {
	mkfifo "$BATS_TEST_TMPDIR/fifo.json"
	run timeout 10 "$BUILD/texporter-load" --check -f "$BATS_TEST_TMPDIR/fifo.json"
	assert_failure 2
	assert_output --partial "is a FIFO, not a regular file"
	run timeout 10 nsenter --net="/run/netns/$NS_A" "$BUILD/texporter-load" --pin-root "$PIN_ROOT" \
		-i "$IF_A" -f "$BATS_TEST_TMPDIR/fifo.json"
	assert_failure 2
	assert_output --partial "is a FIFO, not a regular file"
	[[ ! -e $PIN_ROOT/$IF_A ]] || fail "the load pinned something"
}

@test "a FIFO or a file where a pin should be (a symlink off the bpffs) is named as such, not as a permission problem" {
	run tx_load "$NS_A" -i "$IF_A" -f "$CONFIG"
	assert_success
	mkfifo "$TMPFS/fifo"
	rm "$PIN_ROOT/$IF_A/counters"
	ln -s "$TMPFS/fifo" "$PIN_ROOT/$IF_A/counters"
	run tx_load "$NS_A" -i "$IF_A" -f "$CONFIG"
	assert_failure 1
	assert_output --partial "$PIN_ROOT/$IF_A/counters is a FIFO outside a bpffs"
	refute_output --partial "Permission denied"
	rm "$PIN_ROOT/$IF_A/counters"
	touch "$TMPFS/file"
	ln -s "$TMPFS/file" "$PIN_ROOT/$IF_A/counters"
	run tx_load "$NS_A" -i "$IF_A" --status
	assert_failure 1
	assert_output --partial "$PIN_ROOT/$IF_A/counters is a regular file outside a bpffs"
}
