#!/usr/bin/env bats
# deploy/: the Kubernetes manifests parse, fit together (labels, ports,
# pin root, group) and grant exactly the privileges their README states;
# the seccomp profiles are the runtime's default with bpf(2) changed only.
# That these privileges suffice, and that each is needed, is
# tests/containers.bats' part.

load helpers

K8S=$TX_REPO/deploy/kubernetes

check() {
	run "$PYTHON" "$TX_TOOLS/check_manifests.py" "${2:-$K8S}" "$1"
}

@test "every manifest is one YAML document in the texporter namespace" {
	check parse
	assert_success
	assert_output ""
}

@test "the namespace enforces the privileged Pod Security level its README explains" {
	check namespace
	assert_success
	grep -q '^\*\*The namespace is `privileged`.\*\*' "$K8S/README.md"
}

@test "the DaemonSet: host network, a loader init container, the reader as 65534 with no capability on :2112 with probes" {
	check daemonset
	assert_success
	assert_output ""
}

@test "the reader mounts the loader's pin root read-only at /run/texporter; Service and PodMonitor find its port" {
	check wiring
	assert_success
	assert_output ""
}

@test "the cleanup Job detaches every interface under the DaemonSet's pin root on its node" {
	check cleanup
	assert_success
	assert_output ""
}

@test "the README's capability table is exactly what the manifests grant" {
	check readme
	assert_success
	assert_output ""
}

@test "the checks catch a manifest that grants more than the README states, or a writable pin mount" {
	cp -r "$TX_REPO/deploy" "$BATS_TEST_TMPDIR/"
	local copy=$BATS_TEST_TMPDIR/deploy/kubernetes
	sed -i 's/add: \[BPF, NET_ADMIN,/add: [SYS_ADMIN, BPF, NET_ADMIN,/' "$copy/daemonset.yaml"
	check readme "$copy"
	assert_failure 1
	assert_output --partial "the manifest grants ['CAP_SYS_ADMIN', 'CAP_BPF'"
	cp "$K8S/daemonset.yaml" "$copy/"
	"$PYTHON" - "$copy/daemonset.yaml" <<-'EOF2'
		import sys
		path = sys.argv[1]
		text = open(path).read().replace("mountPath: /run/texporter\n              readOnly: true",
		                                 "mountPath: /run/texporter")
		open(path, "w").write(text)
	EOF2
	check wiring "$copy"
	assert_failure 1
	assert_output --partial "are not mounted read-only at /run/texporter"
}

@test "the seccomp profiles are the runtime's default with only bpf(2) changed: the reader's to five read commands" {
	[[ -e /usr/share/containers/seccomp.json ]] ||
		skip "no runtime default profile here (/usr/share/containers/seccomp.json: sudo make deps)"
	"$TX_REPO/scripts/image/seccomp-profiles" "$BATS_TEST_TMPDIR"
	run diff "$BATS_TEST_TMPDIR/texporter-reader.json" "$TX_REPO/deploy/seccomp/texporter-reader.json"
	assert_success
	run diff "$BATS_TEST_TMPDIR/texporter-loader.json" "$TX_REPO/deploy/seccomp/texporter-loader.json"
	assert_success
	run "$PYTHON" - "$TX_REPO/deploy/seccomp/texporter-reader.json" <<-'EOF2'
		import json, sys
		p = json.load(open(sys.argv[1]))
		for r in p["syscalls"]:
		    if "bpf" in r["names"]:
		        print(r["action"], [a["value"] for a in r.get("args", [])])
	EOF2
	assert_output "SCMP_ACT_ALLOW [1]
SCMP_ACT_ALLOW [4]
SCMP_ACT_ALLOW [7]
SCMP_ACT_ALLOW [15]
SCMP_ACT_ALLOW [24]"
}
