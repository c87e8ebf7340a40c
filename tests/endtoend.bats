#!/usr/bin/env bats
# End to end: real clients (Prometheus, node_exporter, promtool, an
# unprivileged user) read pins that the real texporter-load made on a veth
# pair, after real pings of known size crossed it.
#
# texporter is loaded on IF_A in NS_A with the ranges lan (A) and peer (B),
# so NS_A's pings count as lan->peer on egress and their replies as
# peer->lan on ingress. `ping -s S` sends L3 packets of 20+8+S bytes (IPv4)
# or 40+8+S (IPv6).
#
# The readers and servers run in the root namespace (pins are not bound to
# a network namespace: --pin-root is enough), listen on 127.0.0.1 only, on
# ports picked at random and checked free, and are killed in teardown.
# Everything lives in a directory under /tmp that "nobody" can traverse.

load helpers

setup() {
	E2E=$(mktemp -d /tmp/texporter-e2e.XXXXXX)
	chmod 0755 "$E2E"
	# The private bpffs under $E2E, not under Bats' 0700 tmp dirs.
	BATS_TEST_TMPDIR=$E2E tx_setup_bpffs
	tx_setup_pair
	CONFIG=$E2E/ranges.json
	tx_write_config "$CONFIG" "lan=$IP4_A,$IP6_A" "peer=$IP4_B,$IP6_B"
	E2E_PORTS=()
	E2E_GROUP=
	READER=$BUILD/texporter-read
}

teardown() {
	tx_teardown
	if [[ -n ${E2E_GROUP:-} ]] && getent group "$E2E_GROUP" >/dev/null; then
		groupdel "$E2E_GROUP" || true
	fi
	if [[ -n ${E2E:-} && -d $E2E ]]; then
		# tx_teardown unmounted the bpffs; never follow into a mount.
		rm -rf --one-file-system "$E2E" || true
	fi
}

# --- helpers of this file ---------------------------------------------------

load_a() {
	run tx_load "$NS_A" -i "$IF_A" -f "$CONFIG" "$@"
	assert_success
}


# The traffic most tests send: 5 IPv4 pings of 128 L3 bytes and 3 IPv6
# pings of 248, each answered.
send_pings() {
	tx_ping_b ipv4 5 100
	tx_ping_b ipv6 3 200
}

# The captured series send_pings leads to, one per line, in the reader's
# label order: "NAME{iface,family,src,dst} VALUE".
expected_reader_series() {
	local fam src dst packets bytes
	while read -r fam src dst packets bytes; do
		echo "texporter_captured_bytes_total{iface=\"$IF_A\",family=\"$fam\",src=\"$src\",dst=\"$dst\"} $bytes"
		echo "texporter_captured_packets_total{iface=\"$IF_A\",family=\"$fam\",src=\"$src\",dst=\"$dst\"} $packets"
	done <<-EOF | LC_ALL=C sort
		ipv4 lan peer 5 640
		ipv4 peer lan 5 640
		ipv6 lan peer 3 744
		ipv6 peer lan 3 744
	EOF
}

# The same series with label names sorted, as Prometheus and node_exporter
# show them; EXTRA labels (already formatted, e.g. 'instance="…",job="…"')
# join in their sorted place.
sorted_label_series() {
	local extra=${1:-}
	expected_reader_series | "$PYTHON" -c '
import re, sys
extra = sys.argv[1]
out = []
for line in sys.stdin:
    name, labels, value = re.match(r"^(\w+)\{(.*)\} (\S+)$", line.rstrip("\n")).groups()
    pairs = re.findall(r"(\w+)=(\"[^\"]*\")", labels + ("," + extra if extra else ""))
    out.append(name + "{" + ",".join(k + "=" + v for k, v in sorted(pairs)) + "} " + value)
print("\n".join(sorted(out)))' "$extra"
}

# The captured series in a text exposition on stdin, sorted.
captured_lines() {
	grep -E '^texporter_captured_(bytes|packets)_total\{' | LC_ALL=C sort
}

# pick_port: a TCP port free on this host, not yet picked by this test,
# in E2E_PORT.
pick_port() {
	local port _
	for _ in {1..200}; do
		port=$((20000 + RANDOM % 40000))
		[[ " ${E2E_PORTS[*]} " == *" $port "* ]] && continue
		[[ -z $(ss -Htln "sport = :$port") ]] || continue
		E2E_PORTS+=("$port")
		E2E_PORT=$port
		return 0
	done
	fail "no free port found"
}

# start_server NAME COMMAND...: COMMAND in the root namespace, in the
# background, its output in $E2E/NAME.log; pid in E2E_PID. tx_teardown
# kills it. fd 3 closed: Bats waits for whoever holds it.
start_server() {
	local name=$1
	shift
	"$@" </dev/null >"$E2E/$name.log" 2>&1 3>&- &
	E2E_PID=$!
	TX_BG_PIDS+=("$E2E_PID")
}

listening() {
	[[ -n $(ss -Htln "src 127.0.0.1 and sport = :$1") ]]
}

# wait_listening NAME PORT: the server NAME (pid E2E_PID) listens on PORT.
wait_listening() {
	local name=$1 port=$2
	tx_wait_until 30 listening "$port" ||
		fail "$name is not listening on 127.0.0.1:$port: $(cat "$E2E/$name.log")"
	kill -0 "$E2E_PID" 2>/dev/null ||
		fail "$name exited (another server on port $port?): $(cat "$E2E/$name.log")"
}

# start_prometheus TARGET_PORT [JOB_LINES...]: a Prometheus server scraping
# 127.0.0.1:TARGET_PORT/metrics every second (job "texporter", with the
# scrape config lines given, as "scheme: https"), its TSDB in $E2E; ready
# when this returns. Its port in PROM_PORT.
start_prometheus() {
	local target=$1 line
	shift
	pick_port
	PROM_PORT=$E2E_PORT
	mkdir "$E2E/tsdb"
	cat >"$E2E/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		scrape_configs:
		  - job_name: texporter
		    static_configs:
		      - targets: ['127.0.0.1:$target']
	EOF
	for line in "$@"; do
		echo "    $line" >>"$E2E/prometheus.yml"
	done
	start_server prometheus prometheus --config.file="$E2E/prometheus.yml" \
		--storage.tsdb.path="$E2E/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT"
	wait_listening prometheus "$PROM_PORT"
	tx_wait_until 60 curl -sf --max-time 2 "http://127.0.0.1:$PROM_PORT/-/ready" ||
		fail "Prometheus never became ready: $(cat "$E2E/prometheus.log")"
}

# prom_query PROMQL: the instant vector's series, one per line,
# "NAME{sorted labels} VALUE", sorted; nothing for an empty result.
prom_query() {
	curl -sS --max-time 5 -G --data-urlencode "query=$1" \
		"http://127.0.0.1:$PROM_PORT/api/v1/query" |
		"$PYTHON" -c '
import json, sys
answer = json.load(sys.stdin)
if answer.get("status") != "success" or answer["data"]["resultType"] != "vector":
    sys.exit("prom_query: unexpected answer: %r" % answer)
out = []
for series in answer["data"]["result"]:
    labels = dict(series["metric"])
    name = labels.pop("__name__", "")
    out.append(name + "{" + ",".join("%s=\"%s\"" % (k, labels[k]) for k in sorted(labels))
               + "} " + series["value"][1])
print("\n".join(sorted(out)))'
}

# prom_query_is EXPECTED PROMQL: prom_query's answer is exactly EXPECTED.
prom_query_is() {
	[[ $(prom_query "$2") == "$1" ]]
}

# prom_wait_for EXPECTED PROMQL: wait (bounded) for a scrape that makes
# PROMQL's answer exactly EXPECTED, then assert it, showing what was
# there instead when it never came.
prom_wait_for() {
	local expected=$1 query=$2
	tx_wait_until 30 prom_query_is "$expected" "$query" || true
	run prom_query "$query"
	assert_success
	assert_output "$expected"
}

# The whole scrape path through Prometheus, to a texporter-read endpoint
# already serving on 127.0.0.1:TARGET_PORT (JOB_LINES as start_prometheus
# takes them follow): up and attached before any
# traffic, no captured series yet; after the pings, exactly their counts.
assert_prometheus_scrapes() {
	local target=$1 instance job
	instance="instance=\"127.0.0.1:$target\"" job='job="texporter"'
	start_prometheus "$@"

	prom_wait_for "up{$instance,$job} 1" 'up'
	prom_wait_for "$(printf '%s\n' \
		"texporter_attach_info{direction=\"egress\",hook=\"tc\",iface=\"$IF_A\",$instance,$job,mode=\"$(tx_default_tc_mode)\"} 1" \
		"texporter_attach_info{direction=\"ingress\",hook=\"xdp\",iface=\"$IF_A\",$instance,$job,mode=\"native\"} 1")" \
		'texporter_attach_info'
	run prom_query '{__name__=~"texporter_captured_.*"}'
	assert_success
	assert_output ''

	send_pings
	prom_wait_for "$(sorted_label_series "$instance,$job")" \
		'{__name__=~"texporter_captured_(bytes|packets)_total"}'
	# The query of one series by its labels: N x L, exactly.
	run prom_query "texporter_captured_bytes_total{iface=\"$IF_A\",family=\"ipv4\",src=\"lan\",dst=\"peer\"}"
	assert_success
	assert_output "texporter_captured_bytes_total{dst=\"peer\",family=\"ipv4\",iface=\"$IF_A\",$instance,$job,src=\"lan\"} $((5 * 128))"
	run prom_query "texporter_captured_bytes_total{iface=\"$IF_A\",family=\"ipv6\",src=\"peer\",dst=\"lan\"}"
	assert_success
	assert_output "texporter_captured_bytes_total{dst=\"lan\",family=\"ipv6\",iface=\"$IF_A\",$instance,$job,src=\"peer\"} $((3 * 248))"
	# Every scrape so far succeeded.
	run prom_query 'min_over_time(up[1h])'
	assert_success
	assert_output "{$instance,$job} 1"
}

# as_nobody SETPRIV_GROUP_OPTIONS... -- COMMAND...: COMMAND as nobody
# without any capability, with the given group options.
as_nobody() {
	local opts=()
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	# shellcheck disable=SC2046 # the options, one word each
	setpriv --reuid=nobody "${opts[@]}" $(tx_reader_caps) "$@"
}

# A temporary group for the pins, in E2E_GROUP/E2E_GID; teardown removes it.
make_group() {
	local _
	for _ in 1 2 3 4 5; do
		E2E_GROUP=txe2e$(tx_random_suffix)
		groupadd "$E2E_GROUP" 2>/dev/null && break
		E2E_GROUP=
	done
	[[ -n $E2E_GROUP ]] || fail "could not create a temporary group"
	E2E_GID=$(getent group "$E2E_GROUP" | cut -d: -f3)
}

# The maps a first load pins (a "carry" map appears only once the counter
# map has grown; "unmatched" and "unmatched_cache" unless
# --unmatched-entries 0), and its links.
MAP_PINS=(counters errors meta names ranges shared unmatched unmatched_cache)
LINK_PINS=(link_ingress) # legacy tc egress, before 6.6, has no link
[[ $(tx_default_tc_mode) == tcx ]] && LINK_PINS=(link_egress link_ingress)

# The pins of IF_A as DESIGN.md fixes them: maps root:GROUP 0440, links
# root:root 0600, in a root:GROUP 0750 directory; nothing else.
assert_pins_for_group() {
	local pin expected
	expected=$(
		echo ". 750 root:$E2E_GROUP"
		{
			for pin in "${MAP_PINS[@]}"; do echo "$pin 440 root:$E2E_GROUP"; done
			for pin in "${LINK_PINS[@]}"; do echo "$pin 600 root:root"; done
		} | LC_ALL=C sort
	)
	run env -C "$PIN_ROOT/$IF_A" LC_ALL=C bash -c 'stat -c "%n %a %U:%G" . *'
	assert_success
	assert_output "$expected"
}

# --- through Prometheus -------------------------------------------------------

@test "Prometheus scrapes texporter-read under systemd-socket-activate (Accept=yes) and gets the exact counts" {
	load_a
	pick_port
	local port=$E2E_PORT
	start_server socket-activate systemd-socket-activate --inetd -a -l "127.0.0.1:$port" \
		"$READER" --pin-root "$PIN_ROOT"
	wait_listening socket-activate "$port"
	assert_prometheus_scrapes "$port"
}

@test "Prometheus scrapes texporter-read --listen and gets the exact counts" {
	load_a
	pick_port
	local port=$E2E_PORT
	start_server reader "$READER" --pin-root "$PIN_ROOT" --listen "127.0.0.1:$port"
	wait_listening reader "$port"
	assert_prometheus_scrapes "$port"
}

# TLS with basic auth (--web.config.file): a CA and a server certificate
# made by openssl, user prometheus with password "secret", all in $E2E;
# the scrape config lines Prometheus needs in TLS_SCRAPE.
setup_tls_basic_auth() {
	tx_make_cert "$E2E" ca "texporter test CA"
	tx_make_cert "$E2E" server server.test ca
	cat >"$E2E/web.yml" <<-EOF
		tls_server_config:
		  cert_file: server.pem
		  key_file: server.key
		  min_version: TLS12
		basic_auth_users:
		  prometheus: '$(tx_bcrypt secret)'
	EOF
	TLS_SCRAPE=("scheme: https" "tls_config: {ca_file: '$E2E/ca.pem'}"
		"basic_auth: {username: prometheus, password: secret}")
}

@test "Prometheus scrapes texporter-read --listen over TLS with basic auth and gets the exact counts" {
	load_a
	setup_tls_basic_auth
	pick_port
	local port=$E2E_PORT
	start_server reader "$READER" --pin-root "$PIN_ROOT" --web.config.file "$E2E/web.yml" \
		--web.listen-address "127.0.0.1:$port"
	wait_listening reader "$port"
	assert_prometheus_scrapes "$port" "${TLS_SCRAPE[@]}"
}

@test "Prometheus scrapes texporter-read over TLS with basic auth under systemd-socket-activate (Accept=yes)" {
	load_a
	setup_tls_basic_auth
	pick_port
	local port=$E2E_PORT
	start_server socket-activate systemd-socket-activate --inetd -a -l "127.0.0.1:$port" \
		"$READER" --pin-root "$PIN_ROOT" --web.config.file "$E2E/web.yml"
	wait_listening socket-activate "$port"
	assert_prometheus_scrapes "$port" "${TLS_SCRAPE[@]}"
}

# --- through node_exporter ----------------------------------------------------

@test "node_exporter's textfile collector reads texporter-read --textfile with the exact counts" {
	load_a
	send_pings
	mkdir "$E2E/textfile"
	run "$READER" --pin-root "$PIN_ROOT" --textfile "$E2E/textfile/texporter.prom"
	assert_success
	assert_output ''

	pick_port
	local port=$E2E_PORT
	start_server node-exporter prometheus-node-exporter \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$E2E/textfile" \
		--web.listen-address="127.0.0.1:$port"
	wait_listening node-exporter "$port"

	run curl -sS --max-time 5 "http://127.0.0.1:$port/metrics"
	assert_success
	assert_line 'node_textfile_scrape_error 0'
	assert_line --regexp "^node_textfile_mtime_seconds\{file=\"([^\"]*/)?texporter.prom\"\} [0-9.e+]+$"
	assert_equal "$(captured_lines <<<"$output")" "$(sorted_label_series)"
	assert_line "texporter_captured_bytes_total{dst=\"peer\",family=\"ipv4\",iface=\"$IF_A\",src=\"lan\"} 640"

	# More traffic, the file rewritten: node_exporter shows the new totals.
	tx_ping_b ipv4 2 0 # 2 x 28 more each way
	run "$READER" --pin-root "$PIN_ROOT" --textfile "$E2E/textfile/texporter.prom"
	assert_success
	run curl -sS --max-time 5 "http://127.0.0.1:$port/metrics"
	assert_success
	assert_line 'node_textfile_scrape_error 0'
	assert_line "texporter_captured_bytes_total{dst=\"peer\",family=\"ipv4\",iface=\"$IF_A\",src=\"lan\"} $((640 + 56))"
	assert_line "texporter_captured_packets_total{dst=\"peer\",family=\"ipv4\",iface=\"$IF_A\",src=\"lan\"} 7"
	assert_line "texporter_captured_bytes_total{dst=\"lan\",family=\"ipv4\",iface=\"$IF_A\",src=\"peer\"} $((640 + 56))"
	assert_line "texporter_captured_bytes_total{dst=\"peer\",family=\"ipv6\",iface=\"$IF_A\",src=\"lan\"} 744"
	# Only the texporter.prom file, no temp file left for the collector.
	assert_equal "$(ls -A "$E2E/textfile")" texporter.prom
}

# --- promtool -----------------------------------------------------------------

@test "promtool check metrics accepts the reader's output from real pins" {
	load_a
	send_pings
	"$READER" --pin-root "$PIN_ROOT" >"$E2E/metrics.prom"
	assert_equal "$(captured_lines <"$E2E/metrics.prom")" "$(expected_reader_series)"
	run promtool check metrics <"$E2E/metrics.prom"
	assert_success
	assert_output ''

	# The same through --textfile, and from two interfaces' pins at once.
	tx_load "$NS_B" -i "$IF_B" -f "$CONFIG" >/dev/null
	tx_ping_b ipv4 1 100
	run "$READER" --pin-root "$PIN_ROOT" --textfile "$E2E/metrics2.prom"
	assert_success
	grep -q "^texporter_captured_bytes_total{iface=\"$IF_B\",family=\"ipv4\",src=\"lan\",dst=\"peer\"} 128\$" \
		"$E2E/metrics2.prom" || fail "no $IF_B series: $(cat "$E2E/metrics2.prom")"
	run promtool check metrics <"$E2E/metrics2.prom"
	assert_success
	assert_output ''
}

# --- unprivileged -------------------------------------------------------------

@test "before 5.19 with unprivileged BPF disabled, a reader without CAP_BPF is told the kernel, the sysctl and both fixes" {
	tx_kernel_needs_cap_bpf ||
		skip "Linux $(uname -r), unprivileged_bpf_disabled=$(cat /proc/sys/kernel/unprivileged_bpf_disabled): readers need no capability here"
	make_group
	load_a --group "$E2E_GROUP"
	run setpriv --reuid=nobody --regid=nogroup --groups="$E2E_GID" --inh-caps=-all --bounding-set=-all \
		-- "$READER" --pin-root "$PIN_ROOT"
	assert_failure 1
	assert_output "texporter-read: error: cannot open $PIN_ROOT/$IF_A/meta: Operation not permitted: Linux $(uname -r) (before 5.19) lets no process without CAP_BPF use bpf(2), not even to read a pin, while kernel.unprivileged_bpf_disabled is set (it is $(cat /proc/sys/kernel/unprivileged_bpf_disabled)). Fix: give texporter-read CAP_BPF as its only capability (systemd: the drop-in texporter-read-cap-bpf.conf, see docs/deployment.md; never CAP_SYS_ADMIN), or allow unprivileged BPF with sysctl kernel.unprivileged_bpf_disabled=0 (only while it is 2; 1 holds until reboot)"
}

@test "nobody in the loader's --group reads real pins exactly with no capability (CAP_BPF alone before 5.19); without the group it is told the fix" {
	make_group
	load_a --group "$E2E_GROUP"
	send_pings

	assert_pins_for_group

	# Root's view, for comparison (the scrape duration aside).
	"$READER" --pin-root "$PIN_ROOT" | grep -v '^texporter_scrape_duration_seconds ' >"$E2E/root.prom"
	assert_equal "$(captured_lines <"$E2E/root.prom")" "$(expected_reader_series)"

	# In the group as a supplementary group, then as the primary group.
	local groups
	for groups in "--regid=nogroup --groups=$E2E_GID" "--regid=$E2E_GROUP --clear-groups"; do
		# shellcheck disable=SC2086 # two setpriv options
		as_nobody $groups -- "$READER" --pin-root "$PIN_ROOT" >"$E2E/nobody.prom" 2>"$E2E/nobody.err" ||
			fail "texporter-read as nobody ($groups) failed: $(cat "$E2E/nobody.err")"
		assert_equal "$(cat "$E2E/nobody.err")" ''
		assert_equal "$(captured_lines <"$E2E/nobody.prom")" "$(expected_reader_series)"
		assert_equal "$(grep -v '^texporter_scrape_duration_seconds ' "$E2E/nobody.prom")" \
			"$(cat "$E2E/root.prom")"
	done

	# Not in the group: the documented error, naming the pin and the fix.
	run as_nobody --regid=nogroup --clear-groups -- "$READER" --pin-root "$PIN_ROOT"
	assert_failure 1
	assert_output "texporter-read: error: cannot open $PIN_ROOT/$IF_A/meta: Permission denied. The reader's user must be in the loader's --group group (pins are root:GROUP 0440 in a 0750 directory); on systemd systems /sys/fs/bpf itself is mode 0700: run the reader from texporter-read@.service or make /sys/fs/bpf traversable"
	run as_nobody --regid=nogroup --clear-groups -- "$READER" --pin-root "$PIN_ROOT" -i "$IF_A"
	assert_failure 1
	assert_output "texporter-read: error: cannot open $PIN_ROOT/$IF_A/meta: Permission denied. The reader's user must be in the loader's --group group (pins are root:GROUP 0440 in a 0750 directory); on systemd systems /sys/fs/bpf itself is mode 0700: run the reader from texporter-read@.service or make /sys/fs/bpf traversable"
}

@test "a reader whose bpf(2) a seccomp filter refuses (EPERM) is told so, not that it lacks the group" {
	make_group
	load_a --group "$E2E_GROUP"
	# In the group, so file permissions allow it: only seccomp refuses.
	# (Debian's python3: nobody may not reach a user's own interpreter.)
	run as_nobody --regid=nogroup --groups="$E2E_GID" -- \
		/usr/bin/python3 "$TX_TOOLS/deny_bpf.py" "$READER" --pin-root "$PIN_ROOT"
	assert_failure 1
	if tx_kernel_needs_cap_bpf; then
		assert_output --partial "(before 5.19) lets no process without CAP_BPF use bpf(2)"
		return
	fi
	assert_output "texporter-read: error: cannot open $PIN_ROOT/$IF_A/meta: Operation not permitted: the bpf(2) call was refused, not the pin's file permissions. In a container the runtime's default seccomp profile refuses bpf(2): run the reader under texporter's profile (deploy/seccomp/texporter-reader.json, see deploy/kubernetes/README.md); elsewhere a seccomp filter or a security module (SELinux, AppArmor) of the reader's service refuses it"
	refute_output --partial "--group"
}

@test "a read-only pin cannot change a map, and nobody in the group cannot open one read-write" {
	make_group
	load_a --group "$E2E_GROUP"
	send_pings

	# A python3 that nobody may run (PYTHON may be a shim under /root).
	local pin SYSTEM_PYTHON=/usr/bin/python3
	[[ -x $SYSTEM_PYTHON ]] || SYSTEM_PYTHON=$(command -v python3)
	assert_pins_for_group
	for pin in "${MAP_PINS[@]}"; do
		run as_nobody --regid=nogroup --groups="$E2E_GID" -- \
			"$SYSTEM_PYTHON" "$TX_TOOLS/pinaccess.py" "$PIN_ROOT/$IF_A/$pin"
		assert_success
		assert_output "$(printf '%s\n' 'open-rdonly ok' 'lookup ok' 'update EPERM' \
			'delete EPERM' 'open-rdwr EACCES' 'open-wronly EACCES')"
		# Not even root's capabilities let a read-only descriptor write.
		run "$SYSTEM_PYTHON" "$TX_TOOLS/pinaccess.py" "$PIN_ROOT/$IF_A/$pin"
		assert_success
		assert_output "$(printf '%s\n' 'open-rdonly ok' 'lookup ok' 'update EPERM' \
			'delete EPERM' 'open-rdwr ok' 'open-wronly ok')"
	done
	# The links (which could detach the programs) are root's alone.
	for pin in "${LINK_PINS[@]}"; do
		run as_nobody --regid=nogroup --groups="$E2E_GID" -- \
			"$SYSTEM_PYTHON" "$TX_TOOLS/pinaccess.py" "$PIN_ROOT/$IF_A/$pin"
		assert_failure 1
		assert_output "$(printf '%s\n' 'open-rdonly EACCES' \
			"pinaccess: cannot go on without a read-only descriptor of $PIN_ROOT/$IF_A/$pin")"
	done

	# Nothing changed: the counts are still exactly the pings'.
	run "$READER" --pin-root "$PIN_ROOT"
	assert_success
	assert_equal "$(captured_lines <<<"$output")" "$(expected_reader_series)"
}
