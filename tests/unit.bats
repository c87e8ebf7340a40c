#!/usr/bin/env bats
# The loader's range table builder, checked in user space against a
# brute-force longest-prefix match (no kernel, no namespaces).

load helpers

setup_file() {
	cc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$TX_REPO/bpf" -I"$TX_REPO/loader" \
		"$TX_REPO/tests/unit/trie_test.c" "$TX_REPO/loader/trie.c" "$TX_REPO/loader/trie_walk.c" \
		-o "$BATS_FILE_TMPDIR/trie_test"
}

@test "the range table agrees with a brute-force longest-prefix match for every stride layout" {
	run "$BATS_FILE_TMPDIR/trie_test"
	assert_success
	assert_line --partial "layout v4 root 16, v6 second 8: 40000 addresses agree"
	assert_line --partial "layout v4 root 16, v6 second 16: 40000 addresses agree"
	assert_line --partial "layout v4 root 24, v6 second 8: 40000 addresses agree"
	assert_line --partial "layout v4 root 24, v6 second 16: 40000 addresses agree"
}
