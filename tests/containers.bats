#!/usr/bin/env bats
# The OCI image (`make image`: the static tools' .deb, no shared library)
# and its containers, run as the Kubernetes manifests in deploy/kubernetes/
# say (their commands, users, groups, capabilities and seccomp profiles
# are read from the files): the loader as root with only its
# capabilities, inside a test namespace; the reader as uid 65534 with the
# pins' group, no capability, a read-only root filesystem and the pins
# read-only at /run/texporter; the cleanup Job.
# podman runs with tests/containers/containers.conf (runc, file limits)
# and its own storage in this file's tmp dir, so the machine's images and
# settings are left alone.

load helpers

K8S=$TX_REPO/deploy/kubernetes
manifest() {
	"$PYTHON" "$TX_TOOLS/manifest.py" "$@"
}
# The loader's capabilities, one per element, as the DaemonSet adds them.
IFS=, read -r -a LOADER_CAPS <<<"$(manifest "$K8S/daemonset.yaml" load caps)"
READERS_GID=$(manifest "$K8S/daemonset.yaml" read groups)

setup_file() {
	PODMAN_SKIP=
	if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
		PODMAN_SKIP="podman and runc are not installed (sudo make deps installs them)"
	fi
	PODMAN_DIR=$BATS_FILE_TMPDIR/podman
	VERSION=$(cat "$TX_REPO/VERSION")
	IMAGE=texporter:$VERSION
	export PODMAN_SKIP PODMAN_DIR VERSION IMAGE
	[[ -z $PODMAN_SKIP ]] || return 0
	# make image takes the static tools from BUILD/static; under
	# `make check STATIC=1` the tests' BUILD is that directory already.
	IMAGE_BUILD=${BUILD%/static}
	IMAGE_DEB=$BATS_FILE_TMPDIR/image/texporter_${VERSION}_$(dpkg --print-architecture).deb
	export IMAGE_BUILD IMAGE_DEB
	MAKE_IMAGE_STATUS=0
	make -C "$TX_REPO" --no-print-directory BUILD="$IMAGE_BUILD" image \
		PODMAN="$(podman_words)" IMAGE_DIR="$BATS_FILE_TMPDIR/image" \
		>"$BATS_FILE_TMPDIR/make-image.log" 2>&1 || MAKE_IMAGE_STATUS=$?
	export MAKE_IMAGE_STATUS
}

teardown_file() {
	[[ -d ${PODMAN_DIR:-} ]] || return 0
	podman_run_cleanup
	rm -rf "$PODMAN_DIR"
}

setup() {
	[[ -z $PODMAN_SKIP ]] || skip "$PODMAN_SKIP"
	tx_setup_bpffs
	tx_setup_pair
	CONFIG=$BATS_TEST_TMPDIR/ranges.json
	tx_write_config "$CONFIG" "lan=$IP4_A,$IP6_A" "peer=$IP4_B,$IP6_B"
	chmod 0644 "$CONFIG"
}

teardown() {
	tx_teardown
}

# --- helpers of this file ---------------------------------------------------

podman_words() {
	echo "podman --root $PODMAN_DIR/storage --runroot $PODMAN_DIR/run --storage-driver vfs"
}

tx_podman() {
	# $(podman_words) unquoted: several words, no spaces inside them
	CONTAINERS_CONF=$TX_REPO/tests/containers/containers.conf $(podman_words) "$@"
}

podman_run_cleanup() {
	tx_podman rm --all --force >/dev/null 2>&1 || true
	tx_podman rmi --all --force >/dev/null 2>&1 || true
}

# The image's files, as a container of it holds them, in DIR.
image_files() {
	local dir=$1 cid
	mkdir -p "$dir"
	cid=$(tx_podman create "$IMAGE")
	tx_podman export "$cid" | tar -x -C "$dir"
	tx_podman rm "$cid" >/dev/null
}

caps_list() {
	local IFS=,
	echo "$*"
}

# The loader's container in NS_A with CAPS (comma-separated), the test's
# bpffs at /sys/fs/bpf and CONFIG at the default path: texporter-load ARGS.
loader_container() {
	local caps=$1
	shift
	tx_podman run --rm --read-only --user "$(manifest "$K8S/daemonset.yaml" load user)" \
		--cap-drop all --cap-add "$caps" \
		--security-opt "seccomp=$TX_REPO/deploy/seccomp/$(manifest "$K8S/daemonset.yaml" load seccomp)" \
		--network "ns:/run/netns/$NS_A" \
		--volume "$TX_BPFFS:/sys/fs/bpf" \
		--volume "$CONFIG:/etc/texporter/config.json:ro" \
		"$IMAGE" /usr/sbin/texporter-load "$@"
}

# The reader's container as the DaemonSet runs it (its user, groups,
# profile; no capability, read-only root, the pins read-only), with podman
# OPTIONS up to "--", then its command.
reader_container() {
	local options=()
	while [[ $1 != -- ]]; do
		options+=("$1")
		shift
	done
	shift
	tx_podman run --read-only --user "$(manifest "$K8S/daemonset.yaml" read user)" \
		--group-add "$READERS_GID" --cap-drop all \
		--security-opt "seccomp=$TX_REPO/deploy/seccomp/$(manifest "$K8S/daemonset.yaml" read seccomp)" \
		--volume "$PIN_ROOT:/run/texporter:ro" "${options[@]}" "$IMAGE" "$@"
}

# The DaemonSet's loader command, its interface patterns replaced by -i
# PATTERN.
daemonset_loader_command() {
	local word
	manifest "$K8S/daemonset.yaml" load command | while IFS= read -r word; do
		case $word in
		--interface-name=*) ;;
		*) echo "$word" ;;
		esac
	done
	echo "--interface-name=$1"
}

# --- the image --------------------------------------------------------------

@test "make image builds texporter:VERSION from scratch with the static binaries at the .deb's paths" {
	[[ $MAKE_IMAGE_STATUS -eq 0 ]] || fail "make image failed: $(cat "$BATS_FILE_TMPDIR/make-image.log")"
	run cat "$BATS_FILE_TMPDIR/make-image.log"
	assert_output --regexp "texporter:$VERSION: [0-9.]+ MB \\([0-9]+ bytes\\)"
	run tx_podman image inspect --format '{{len .RootFS.Layers}} {{.Config.User}}' "$IMAGE"
	assert_success
	assert_output "1 65534:65534" # one layer: nothing below it
	run dpkg-deb -f "$IMAGE_DEB" Depends
	refute_output --regexp 'libc6|libbpf|libssl' # the package of the static tools
	dpkg-deb -x "$IMAGE_DEB" "$BATS_TEST_TMPDIR/deb"
	image_files "$BATS_TEST_TMPDIR/image"
	for bin in /usr/sbin/texporter-load /usr/bin/texporter-read; do
		cmp "$BATS_TEST_TMPDIR/deb$bin" "$BATS_TEST_TMPDIR/image$bin" ||
			fail "the image's $bin is not the static package's"
		run tx_podman run --rm "$IMAGE" "$bin" --version
		assert_success
		assert_output --regexp "^texporter-(load|read) $VERSION \\(revision [0-9a-f]+\\)$"
	done
}

@test "the image holds no shared library: no *.so*, no /lib, no ELF file asking for a loader or a library" {
	local root=$BATS_TEST_TMPDIR/image
	image_files "$root"
	run find "$root" -name '*.so*'
	assert_output ""
	assert_not_exists "$root/lib"
	assert_not_exists "$root/lib64"
	elves=()
	while IFS= read -r -d '' file; do
		cmp -s -n 4 "$file" <(printf '\177ELF') && elves+=("${file#"$root"}")
	done < <(find "$root" -type f -print0)
	assert_equal "$(printf '%s\n' "${elves[@]}" | LC_ALL=C sort)" "/usr/bin/texporter-read
/usr/sbin/texporter-load"
	for file in "${elves[@]}"; do
		run readelf -lW "$root$file"
		assert_success
		refute_output --partial "INTERP"
		run readelf -dW "$root$file"
		refute_output --partial "(NEEDED)"
	done
}

@test "the image lists the Debian packages its code came from, each with its copyright" {
	image_files "$BATS_TEST_TMPDIR/image"
	local doc=$BATS_TEST_TMPDIR/image/usr/share/doc/texporter
	run cat "$doc/image-packages"
	assert_success
	assert_line "texporter $VERSION"
	assert_file_exists "$doc/copyright"
	# What the static link took, as the link maps say (make static).
	assert_equal "$(grep -v '^texporter ' "$doc/image-packages")" \
		"$(cat "$IMAGE_BUILD/static/licenses/packages")"
	for pkg in libbpf-dev libelf-dev zlib1g-dev libc6-dev libssl-dev libyaml-dev libcrypt-dev \
		'libgcc-[0-9]+-dev' cjson; do
		assert_line --regexp "^$pkg [0-9]"
	done
	while read -r pkg version; do
		[[ $pkg == texporter ]] && continue
		[[ -s $doc/licenses/$pkg/copyright ]] || fail "$pkg $version: no licenses/$pkg/copyright"
	done <"$doc/image-packages"
}

@test "build-rootfs refuses a package whose tools load shared libraries or that lists no linked package, and says how to build one" {
	dpkg-deb -R "$IMAGE_DEB" "$BATS_TEST_TMPDIR/pkg"
	cp /usr/bin/true "$BATS_TEST_TMPDIR/pkg/usr/bin/texporter-read" # dynamically linked
	dpkg-deb --root-owner-group -b "$BATS_TEST_TMPDIR/pkg" "$BATS_TEST_TMPDIR/dynamic.deb" >/dev/null
	run "$TX_REPO/scripts/image/build-rootfs" "$BATS_TEST_TMPDIR/dynamic.deb" "$BATS_TEST_TMPDIR/rootfs"
	assert_failure 1
	assert_output "build-rootfs: error: $BATS_TEST_TMPDIR/dynamic.deb: /usr/bin/texporter-read loads shared libraries, which the image has none of; build the package from the static tools: make static && make deb STATIC=1"

	dpkg-deb -R "$IMAGE_DEB" "$BATS_TEST_TMPDIR/pkg2"
	rm -r "$BATS_TEST_TMPDIR/pkg2/usr/share/doc/texporter/licenses"
	dpkg-deb --root-owner-group -b "$BATS_TEST_TMPDIR/pkg2" "$BATS_TEST_TMPDIR/nolicences.deb" >/dev/null
	run "$TX_REPO/scripts/image/build-rootfs" "$BATS_TEST_TMPDIR/nolicences.deb" "$BATS_TEST_TMPDIR/rootfs"
	assert_failure 1
	assert_output --partial "has no /usr/share/doc/texporter/licenses/packages: it was built from dynamically linked tools; make static && make deb STATIC=1"
}

# --- the loader container ---------------------------------------------------

@test "the DaemonSet's loader, its command on a test namespace's veth, loads it with pins of its group 4242" {
	assert_equal "$READERS_GID" 4242
	mapfile -t cmd < <(daemonset_loader_command 'txa*')
	tx_podman run --rm --read-only --user 0:0 --cap-drop all \
		--cap-add "$(caps_list "${LOADER_CAPS[@]}")" \
		--security-opt "seccomp=$TX_REPO/deploy/seccomp/texporter-loader.json" \
		--network "ns:/run/netns/$NS_A" --volume "$TX_BPFFS:/sys/fs/bpf" \
		--volume "$CONFIG:/etc/texporter/config.json:ro" "$IMAGE" "${cmd[@]}" >"$BATS_TEST_TMPDIR/out" 2>&1 ||
		fail "$(cat "$BATS_TEST_TMPDIR/out")"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "$IF_A: attached: ingress xdp (native), egress $(tx_default_egress_words); 2 IPv4 + 2 IPv6 prefixes in 2 ranges; $(tx_default_dataplane)"
	run stat -c '%u:%g %a' "$PIN_ROOT/$IF_A" "$PIN_ROOT/$IF_A/counters" "$PIN_ROOT/$IF_A/link_ingress"
	assert_output "0:$READERS_GID 750
0:$READERS_GID 440
0:0 600"
}

@test "the loader container reloads, describes and detaches with the same capabilities" {
	caps=$(caps_list "${LOADER_CAPS[@]}")
	run loader_container "$caps" -i "$IF_A" --group "$READERS_GID"
	assert_success
	tx_write_config "$CONFIG" "lan=$IP4_A" "peer=$IP4_B" "more=10.99.0.0/16"
	run loader_container "$caps" -i "$IF_A" --group "$READERS_GID"
	assert_success
	assert_output --partial "$IF_A: reloaded:"
	run loader_container "$caps" --status
	assert_success
	assert_output --partial "ranges: 4 of"
	run loader_container "$caps" --detach -i '*'
	assert_success
	assert_output "$IF_A: detached"
	assert_not_exists "$PIN_ROOT/$IF_A"
}

@test "each of the loader container's capabilities is needed: without it a load or a reload fails and says why" {
	# What this kernel says without each one (deploy/kubernetes/README.md explains).
	declare -A WHY_NEEDED=(
		[CAP_BPF]="cannot create the range table map"
		[CAP_NET_ADMIN]="cannot load the BPF programs: Operation not permitted"
		[CAP_PERFMON]="cannot load the BPF programs: Permission denied"
		[CAP_CHOWN]="cannot set owner and mode of /sys/fs/bpf/texporter/$IF_A"
	)
	for drop in "${LOADER_CAPS[@]}"; do
		keep=()
		for cap in "${LOADER_CAPS[@]}"; do
			[[ $cap == "$drop" ]] || keep+=("$cap")
		done
		echo "# without $drop" >&3
		[[ -n ${WHY_NEEDED[$drop]:-} || $drop == CAP_DAC_OVERRIDE ]] ||
			fail "the DaemonSet adds $drop, which no test shows necessary"
		run loader_container "$(caps_list "${keep[@]}")" -i "$IF_A" --group "$READERS_GID"
		if [[ $drop == CAP_DAC_OVERRIDE ]]; then
			# A first load creates its pins; a reload must open them (0440).
			assert_success
			run loader_container "$(caps_list "${keep[@]}")" -i "$IF_A" --group "$READERS_GID"
			assert_failure 1
			assert_output --partial "cannot open pin /sys/fs/bpf/texporter/$IF_A/meta: Permission denied"
		else
			assert_failure 1
			assert_output --partial "${WHY_NEEDED[$drop]}"
		fi
		tx_load "$NS_A" -i "$IF_A" --detach >/dev/null 2>&1 || true
		assert_not_exists "$PIN_ROOT/$IF_A"
	done
}

# --- the reader container ---------------------------------------------------

@test "the reader container as 65534 with read-only pins, no capability and a read-only root reads exact counts" {
	run loader_container "$(caps_list "${LOADER_CAPS[@]}")" -i "$IF_A" --group "$READERS_GID"
	assert_success
	tx_ping_b ipv4 5 100
	tx_ping_b ipv6 3 200
	run reader_container --rm --network none -- /usr/bin/texporter-read --pin-root /run/texporter
	assert_success
	local a="iface=\"$IF_A\""
	assert_line "texporter_captured_packets_total{$a,family=\"ipv4\",src=\"lan\",dst=\"peer\"} 5"
	assert_line "texporter_captured_bytes_total{$a,family=\"ipv4\",src=\"lan\",dst=\"peer\"} $((5 * 128))"
	assert_line "texporter_captured_packets_total{$a,family=\"ipv4\",src=\"peer\",dst=\"lan\"} 5"
	assert_line "texporter_captured_bytes_total{$a,family=\"ipv6\",src=\"lan\",dst=\"peer\"} $((3 * 248))"
	assert_line "texporter_captured_bytes_total{$a,family=\"ipv6\",src=\"peer\",dst=\"lan\"} $((3 * 248))"
}

@test "the DaemonSet's reader, its command in the node's network, serves exact counts on :2112" {
	run loader_container "$(caps_list "${LOADER_CAPS[@]}")" -i "$IF_A" --group "$READERS_GID"
	assert_success
	tx_ping_b ipv4 4 100
	mapfile -t cmd < <(manifest "$K8S/daemonset.yaml" read command)
	reader_container --detach --name "txread-$NS_A" --network "ns:/run/netns/$NS_A" -- \
		"${cmd[@]}" >/dev/null
	tx_wait_until 10 tx_in "$NS_A" curl -sf "http://127.0.0.1:2112/metrics"
	run tx_in "$NS_A" curl -sf "http://127.0.0.1:2112/metrics"
	tx_podman rm --force "txread-$NS_A" >/dev/null
	assert_success
	assert_line "texporter_captured_packets_total{iface=\"$IF_A\",family=\"ipv4\",src=\"lan\",dst=\"peer\"} 4"
	assert_line "texporter_captured_bytes_total{iface=\"$IF_A\",family=\"ipv4\",src=\"peer\",dst=\"lan\"} $((4 * 128))"
}

@test "the image's default command is the reader on :2112" {
	run tx_podman image inspect --format '{{json .Config.Cmd}}' "$IMAGE"
	assert_output '["/usr/bin/texporter-read","--pin-root","/run/texporter","--listen",":2112"]'
}

@test "the reader container without the seccomp profile cannot use bpf(2): why the profile is shipped" {
	run loader_container "$(caps_list "${LOADER_CAPS[@]}")" -i "$IF_A" --group "$READERS_GID"
	assert_success
	run tx_podman run --rm --read-only --user 65534:65534 --group-add "$READERS_GID" \
		--cap-drop all --network none --volume "$PIN_ROOT:/run/texporter:ro" \
		"$IMAGE" /usr/bin/texporter-read --pin-root /run/texporter
	assert_failure 1
	assert_output --partial "cannot open /run/texporter/$IF_A/meta: Operation not permitted"
}

@test "the reader's seccomp profile allows no bpf(2) command beyond reading: not even the loader can load under it" {
	run loader_container "$(caps_list "${LOADER_CAPS[@]}")" -i "$IF_A" --group "$READERS_GID"
	assert_success
	# The loader with every capability it needs, under the reader's
	# profile, cannot create a map or load a program.
	run tx_podman run --rm --read-only --user 0:0 --cap-drop all \
		--cap-add "$(caps_list "${LOADER_CAPS[@]}")" \
		--security-opt "seccomp=$TX_REPO/deploy/seccomp/texporter-reader.json" \
		--network none --volume "$TX_BPFFS:/sys/fs/bpf" \
		--volume "$CONFIG:/etc/texporter/config.json:ro" "$IMAGE" /usr/sbin/texporter-load -i lo
	assert_failure 1
	assert_output --partial "Function not implemented"
	assert_not_exists "$PIN_ROOT/lo"
}

# --- the cleanup Job --------------------------------------------------------

# The cleanup Job's command with CAPS in the test namespace.
cleanup_job() {
	local caps=$1 cmd
	mapfile -t cmd < <(manifest "$K8S/cleanup-job.yaml" detach command)
	tx_podman run --rm --read-only --user "$(manifest "$K8S/cleanup-job.yaml" detach user)" \
		--cap-drop all --cap-add "$caps" \
		--security-opt "seccomp=$TX_REPO/deploy/seccomp/$(manifest "$K8S/cleanup-job.yaml" detach seccomp)" \
		--network "ns:/run/netns/$NS_A" --volume "$TX_BPFFS:/sys/fs/bpf" "$IMAGE" "${cmd[@]}"
}

@test "the cleanup Job detaches every interface with its capabilities, and finds nothing the second time" {
	run loader_container "$(caps_list "${LOADER_CAPS[@]}")" -i "$IF_A" --ingress tc --tc-mode legacy
	assert_success
	tx_in "$NS_A" ip link add txa1 type veth peer name txa2
	run loader_container "$(caps_list "${LOADER_CAPS[@]}")" -i txa1
	assert_success
	run cleanup_job "$(manifest "$K8S/cleanup-job.yaml" detach caps)"
	assert_success
	assert_output "$IF_A: detached
txa1: detached"
	assert_not_exists "$PIN_ROOT/$IF_A"
	run tx_in "$NS_A" tc filter show dev "$IF_A" egress
	assert_output ""
	run tx_in "$NS_A" bpftool net show dev txa1
	refute_output --partial "texporter"
	run cleanup_job "$(manifest "$K8S/cleanup-job.yaml" detach caps)"
	assert_success
	assert_output "texporter-load: info: -i *: no interface loaded under the pin root matches; skipped (--allow-missing)"
}

@test "each of the cleanup Job's capabilities is needed: without it --detach leaves tc filters behind" {
	# What this kernel says without each one (deploy/kubernetes/README.md).
	declare -A WHY_NEEDED=(
		[CAP_NET_ADMIN]="$IF_A: cannot remove the tc egress filter: Operation not permitted"
	)
	IFS=, read -r -a job_caps <<<"$(manifest "$K8S/cleanup-job.yaml" detach caps)"
	assert_equal "${#job_caps[@]}" "${#WHY_NEEDED[@]}"
	for drop in "${job_caps[@]}"; do
		keep=()
		for cap in "${job_caps[@]}"; do
			[[ $cap == "$drop" ]] || keep+=("$cap")
		done
		echo "# without $drop" >&3
		# Legacy filters: no link pin takes them along when the pins go.
		run loader_container "$(caps_list "${LOADER_CAPS[@]}")" -i "$IF_A" --ingress tc --tc-mode legacy
		assert_success
		run cleanup_job "$(caps_list "${keep[@]}")"
		assert_output --partial "${WHY_NEEDED[$drop]}"
		run tx_in "$NS_A" tc filter show dev "$IF_A" egress
		assert_output --partial texporter
		tx_in "$NS_A" tc qdisc del dev "$IF_A" clsact
		tx_load "$NS_A" -i "$IF_A" --detach >/dev/null 2>&1 || true
	done
}
