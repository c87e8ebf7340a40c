#!/usr/bin/env bats
# The loader's range table builder, checked in user space against a
# brute-force longest-prefix match (no kernel, no namespaces).

load helpers

setup_file() {
	# Built by make (check, check-asan); built here only when missing, as
	# make with another BUILD's flags would mix the two builds.
	[[ -x $BUILD/tests/trie_test && -x $BUILD/tests/config_test ]] ||
		make -C "$TX_REPO" --no-print-directory BUILD="$BUILD" "$BUILD/tests/trie_test" \
			"$BUILD/tests/config_test" >/dev/null
}

@test "the range table agrees with a brute-force longest-prefix match for every stride layout" {
	run "$BUILD/tests/trie_test"
	assert_success
	assert_line --partial "layout v4 root 16, v6 second 8: 40000 addresses agree"
	assert_line --partial "layout v4 root 16, v6 second 16: 40000 addresses agree"
	assert_line --partial "layout v4 root 24, v6 second 8: 40000 addresses agree"
	assert_line --partial "layout v4 root 24, v6 second 16: 40000 addresses agree"
}

@test "a config's hash does not depend on the order of its ranges" {
	run "$BUILD/tests/config_test" "$TX_REPO/tests/data/config/good.json"
	assert_success
	assert_line "private v4=3 v6=1"
	assert_line "v6 only v4=0 v6=3"
	local hash=${lines[-1]}
	[[ $hash == hash=* ]]
	run "$BUILD/tests/config_test" "$TX_REPO/tests/data/config/good-reordered.json"
	assert_success
	assert_line "$hash"
}

@test "a config with an error gives the loader's config exit status" {
	run "$BUILD/tests/config_test" "$TX_REPO/tests/data/config/dup-name.json"
	assert_failure 2
	assert_output --partial 'range #3: name "zoom" is already used by range #1'
}
