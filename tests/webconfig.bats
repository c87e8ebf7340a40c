#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# texporter-read --web.config.file: TLS, client certificates, basic auth
# and headers, in every HTTP mode (--listen, inetd under
# systemd-socket-activate, socket activation with Accept=no), against
# pins that tests/reader/texporter-fixture makes. Certificates are made
# here with openssl, passwords hashed with libcrypt's bcrypt (Python's
# crypt module); clients are curl and openssl s_client. Servers listen on
# loopback only. Run as root.

load helpers

setup_file() {
	export READER="$BUILD/texporter-read"
	export FIXTURE="$BUILD/tests/texporter-fixture"
	# Built by make (check, check-asan); built here only when missing.
	[[ -x $READER && -x $FIXTURE ]] ||
		make -C "$TX_REPO" --no-print-directory BUILD="$BUILD" "$READER" "$FIXTURE" >/dev/null
	# One bcrypt hash for the whole file: cost 10 takes a moment.
	export HASH_SECRET="$(tx_bcrypt secret)"
}

setup() {
	# Under /tmp, traversable, so that "nobody" can reach pins and files.
	W="$(mktemp -d /tmp/texporter-web-test.XXXXXX)"
	chmod 0755 "$W"
	mkdir "$W/bpffs"
	mount -t bpf bpf "$W/bpffs"
	PINS="$W/bpffs/texporter"
	"$FIXTURE" "$PINS" <<-'EOF'
		iface eth0 capacity=16
		name 0 other
		name 1 lan
		name 2 peer
		count 4 1 2 6400 50 0
		count 4 2 1 1280 10 last
		count 6 2 1 744 3
	EOF
	make_certs "$W"
}

teardown() {
	local pid
	for pid in $(cat "$W/pids" 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	umount "$W/bpffs" 2>/dev/null || true
	[[ -s $W/group ]] && groupdel "$(cat "$W/group")"
	rm -rf "$W"
}

# ---- helpers

# A CA, a server certificate and a client certificate it signed, and a
# client certificate of another CA.
make_certs() {
	tx_make_cert "$W" ca "texporter test CA"
	tx_make_cert "$W" server server.test ca
	tx_make_cert "$W" client scraper.test ca
	tx_make_cert "$W" otherca "other CA"
	tx_make_cert "$W" stranger stranger.test otherca
}

# web_config [YAML...]: $W/web.yml with TLS on the server certificate,
# then the lines given.
web_config() {
	{
		echo "tls_server_config:"
		echo "  cert_file: server.pem"
		echo "  key_file: server.key"
		(($# == 0)) || printf '%s\n' "$@"
	} >"$W/web.yml"
}

with_basic_auth() {
	web_config "$@" "basic_auth_users:" "  prometheus: '$HASH_SECRET'"
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_log() {
	for _ in $(seq 50); do
		grep -q "$2" "$1" && return 0
		sleep 0.1
	done
	cat "$1" >&2
	return 1
}

# serve MODE: texporter-read on $W/web.yml in MODE, on 127.0.0.1:$PORT:
#   listen     --listen
#   inetd      systemd-socket-activate --inetd (Accept=yes: one reader
#              per connection, the socket on stdin/stdout)
#   socket     systemd-socket-activate (Accept=no: the listening socket as
#              fd 3, LISTEN_FDS=1) with --web.systemd-socket
# Extra arguments go to texporter-read.
serve() {
	local mode=$1
	shift
	PORT="$(free_port)"
	local args=(--pin-root "$PINS" --web.config.file "$W/web.yml" "$@")
	case $mode in
	listen) "$READER" "${args[@]}" --listen "127.0.0.1:$PORT" 2>"$W/server.log" & ;;
	inetd) systemd-socket-activate --inetd --accept -l "127.0.0.1:$PORT" \
		"$READER" "${args[@]}" 2>"$W/server.log" & ;;
	socket) systemd-socket-activate -l "127.0.0.1:$PORT" \
		"$READER" "${args[@]}" --web.systemd-socket 2>"$W/server.log" & ;;
	esac
	SERVER_PID=$!
	echo "$SERVER_PID" >>"$W/pids"
	case $mode in
	listen) wait_for_log "$W/server.log" 'listening on' ;;
	*) wait_for_log "$W/server.log" '^Listening on' ;;
	esac
}

# https GET PATH with curl ARGS...: the head in $W/head, the body in
# $W/body; curl's exit status.
https() {
	local path=$1
	shift
	curl -sS --max-time 10 --cacert "$W/ca.pem" -D "$W/head" -o "$W/body" \
		"$@" "https://127.0.0.1:$PORT$path"
}

status_line() {
	head -1 "$W/head" | tr -d '\r'
}

# The metrics texporter-read writes to stdout, the duration left out.
expected_metrics() {
	"$READER" --pin-root "$PINS" | grep -v '^texporter_scrape_duration_seconds '
}

assert_body_is_the_metrics() {
	run bash -c "grep -v '^texporter_scrape_duration_seconds ' '$W/body'"
	assert_output "$(expected_metrics)"
}

# s_client ARGS...: a TLS handshake with openssl s_client, then a request
# for /metrics with basic auth; its output in $W/s_client.
s_client() {
	printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n\r\n' \
		"$(printf prometheus:secret | base64)" |
		timeout 10 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
			-CAfile "$W/ca.pem" "$@" >"$W/s_client" 2>&1
}

# The subject CN of the certificate the server on PORT presents.
served_cn() {
	openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$W/ca.pem" </dev/null 2>/dev/null |
		openssl x509 -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p'
}

# ---- the configuration file

@test "--web.config.file: unknown keys and bad values are errors naming the key, exit 2 at start" {
	local port
	port="$(free_port)"
	check() {
		printf '%s\n' "${@:2}" >"$W/web.yml"
		run "$READER" --pin-root "$PINS" --listen "127.0.0.1:$port" \
			--web.config.file "$W/web.yml"
		assert_failure 2
		assert_output --partial "$1"
		refute_output --partial 'listening on'
	}
	check "web.yml:2: tls_server_config.cert_fil: unknown key" \
		'tls_server_config:' '  cert_fil: x'
	check "web.yml:1: tls_config: unknown key" 'tls_config: {}'
	check "web.yml:4: tls_server_config.min_version: bad value \"TLS1.2\": use TLS10, TLS11, TLS12, TLS13" \
		'tls_server_config:' '  cert_file: server.pem' '  key_file: server.key' '  min_version: TLS1.2'
	check "tls_server_config.client_auth_type: bad value \"Require\": use NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert" \
		'tls_server_config:' '  cert_file: server.pem' '  key_file: server.key' '  client_auth_type: Require'
	check "tls_server_config.key_file: missing (cert_file is set)" \
		'tls_server_config:' '  cert_file: server.pem'
	check "tls_server_config.client_ca_file: missing: client_auth_type verifies" \
		'tls_server_config:' '  cert_file: server.pem' '  key_file: server.key' \
		'  client_auth_type: RequireAndVerifyClientCert'
	check "tls_server_config.cipher_suites[1]: unknown cipher suite \"TLS_RSA_WITH_NOTHING\"" \
		'tls_server_config:' '  cert_file: server.pem' '  key_file: server.key' \
		'  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_NOTHING]'
	check "tls_server_config.curve_preferences[0]: bad value \"P256\": use CurveP256, CurveP384, CurveP521, X25519" \
		'tls_server_config:' '  cert_file: server.pem' '  key_file: server.key' '  curve_preferences: [P256]'
	check "tls_server_config.key_file: cannot read $W/nokey.pem: No such file or directory" \
		'tls_server_config:' '  cert_file: server.pem' '  key_file: nokey.pem'
	check "tls_server_config.key_file: cannot use $W/client.key" \
		'tls_server_config:' '  cert_file: server.pem' '  key_file: client.key'
	check "basic_auth_users.prometheus: not a bcrypt hash" 'basic_auth_users:' '  prometheus: secret'
	check "http_server_config.headers.Server: this header cannot be set" \
		'http_server_config:' '  headers:' '    Server: texporter'
	check "http_server_config.headers.X-Frame-Options: bad value \"allow\": use deny or sameorigin" \
		'http_server_config:' '  headers:' '    X-Frame-Options: allow'
	check "web.yml:3: not YAML" 'tls_server_config:' '  - [unclosed'
	check "tls_server_config.min_version: given twice" \
		'tls_server_config:' '  min_version: TLS12' '  min_version: TLS13'
}

@test "--web.config.file applies to HTTP only; a missing file is an error naming it" {
	run "$READER" --pin-root "$PINS" --web.config.file "$W/web.yml"
	assert_failure 2
	assert_output --partial '--web.config.file applies to HTTP only'

	run "$READER" --pin-root "$PINS" --listen "127.0.0.1:$(free_port)" \
		--web.config.file "$W/none.yml"
	assert_failure 2
	assert_output --partial "cannot read $W/none.yml: No such file or directory"
}

# ---- TLS and basic auth, in every HTTP mode

# The same behaviours in each mode; the bodies follow.

@test "--listen: TLS with basic auth: the right password gets the metrics, headers included" {
	tls_basic_auth_ok listen
}

@test "--listen: a wrong password, an unknown user and no password are 401 with WWW-Authenticate" {
	tls_basic_auth_refused listen
}

@test "--listen: RequireAndVerifyClientCert: no client certificate or another CA's fails the handshake, ours gets 200" {
	tls_client_cert listen
}

@test "--listen: plain HTTP to the TLS port gets no metrics" {
	tls_plain_http listen
}

@test "--listen: TLS 1.1 is refused with min_version TLS12, accepted with TLS11" {
	tls_min_version listen
}

@test "--listen: a rotated certificate is served without a restart" {
	tls_rotation listen
}

@test "inetd (Accept=yes): TLS with basic auth: the right password gets the metrics, headers included" {
	tls_basic_auth_ok inetd
}

@test "inetd (Accept=yes): a wrong password, an unknown user and no password are 401 with WWW-Authenticate" {
	tls_basic_auth_refused inetd
}

@test "inetd (Accept=yes): RequireAndVerifyClientCert: no client certificate or another CA's fails the handshake, ours gets 200" {
	tls_client_cert inetd
}

@test "inetd (Accept=yes): plain HTTP to the TLS port gets no metrics" {
	tls_plain_http inetd
}

@test "inetd (Accept=yes): TLS 1.1 is refused with min_version TLS12, accepted with TLS11" {
	tls_min_version inetd
}

@test "inetd (Accept=yes): a rotated certificate is served without a restart" {
	tls_rotation inetd
}

@test "--web.systemd-socket (Accept=no): TLS with basic auth: the right password gets the metrics, headers included" {
	tls_basic_auth_ok socket
}

@test "--web.systemd-socket (Accept=no): a wrong password, an unknown user and no password are 401 with WWW-Authenticate" {
	tls_basic_auth_refused socket
}

@test "--web.systemd-socket (Accept=no): RequireAndVerifyClientCert: no client certificate or another CA's fails the handshake, ours gets 200" {
	tls_client_cert socket
}

@test "--web.systemd-socket (Accept=no): plain HTTP to the TLS port gets no metrics" {
	tls_plain_http socket
}

@test "--web.systemd-socket (Accept=no): TLS 1.1 is refused with min_version TLS12, accepted with TLS11" {
	tls_min_version socket
}

@test "--web.systemd-socket (Accept=no): a rotated certificate is served without a restart" {
	tls_rotation socket
}

tls_basic_auth_ok() {
	with_basic_auth "http_server_config:" "  headers:" \
		"    Strict-Transport-Security: max-age=31536000" "    X-Content-Type-Options: nosniff"
	serve "$1"
	run https /metrics -u prometheus:secret
	assert_success
	run status_line
	assert_output 'HTTP/1.1 200 OK'
	run grep -c -e '^Strict-Transport-Security: max-age=31536000' -e '^X-Content-Type-Options: nosniff' "$W/head"
	assert_output 2
	assert_body_is_the_metrics
	# A hash as htpasswd -B writes it ($2y$) is as good; the file is read
	# again for this connection.
	with_basic_auth
	sed -i 's/\$2b\$/$2y$/' "$W/web.yml"
	run https /metrics -u prometheus:secret
	assert_success
	run status_line
	assert_output 'HTTP/1.1 200 OK'
}

tls_basic_auth_refused() {
	with_basic_auth
	serve "$1"
	for who in "-u prometheus:wrong" "-u nobody:secret" ""; do
		# shellcheck disable=SC2086 # the option and its value, or none
		run https /metrics $who
		assert_success
		run status_line
		assert_output 'HTTP/1.1 401 Unauthorized'
		run grep -c '^WWW-Authenticate: Basic' "$W/head"
		assert_output 1
		run grep -c '^texporter_' "$W/body"
		assert_output 0
	done
}

tls_client_cert() {
	web_config "  client_auth_type: RequireAndVerifyClientCert" "  client_ca_file: ca.pem"
	serve "$1"
	run https /metrics
	refute_output ''
	[[ $status -ne 0 ]]
	[[ ! -s $W/body ]]
	run https /metrics --cert "$W/stranger.pem" --key "$W/stranger.key"
	[[ $status -ne 0 ]]
	[[ ! -s $W/body ]]
	run https /metrics --cert "$W/client.pem" --key "$W/client.key"
	assert_success
	run status_line
	assert_output 'HTTP/1.1 200 OK'
	assert_body_is_the_metrics
}

tls_plain_http() {
	web_config
	serve "$1"
	run curl -sS --max-time 10 "http://127.0.0.1:$PORT/metrics"
	[[ $status -ne 0 ]]
	refute_output --partial 'texporter_'
}

tls_min_version() {
	with_basic_auth "  min_version: TLS12"
	serve "$1"
	run s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
	[[ $status -ne 0 ]]
	refute_output --partial 'texporter_'
	run grep -c '^texporter_captured_bytes_total' "$W/s_client"
	assert_output 0
	s_client -tls1_2
	run grep -c '^texporter_captured_bytes_total' "$W/s_client"
	assert_output 3
	# The same client, allowed (the file is read again for this
	# connection): the refusal above was the server's.
	with_basic_auth "  min_version: TLS11"
	s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
	run grep -c '^texporter_captured_bytes_total' "$W/s_client"
	assert_output 3
}

tls_rotation() {
	web_config
	serve "$1"
	run served_cn
	assert_output server.test
	tx_make_cert "$W" next rotated.test ca
	mv "$W/next.key" "$W/server.key"
	mv "$W/next.pem" "$W/server.pem"
	run served_cn
	assert_output rotated.test
	run https /metrics
	assert_success
	assert_body_is_the_metrics
	# Still the first server process.
	kill -0 "$SERVER_PID"
}

# ---- the other keys and modes

@test "client_auth_type: the other four values behave as exporter-toolkit's" {
	web_config "  client_auth_type: RequestClientCert"
	serve listen
	run https /metrics
	assert_success
	run https /metrics --cert "$W/stranger.pem" --key "$W/stranger.key"
	assert_success

	web_config "  client_auth_type: RequireAnyClientCert"
	run https /metrics
	[[ $status -ne 0 ]]
	run https /metrics --cert "$W/stranger.pem" --key "$W/stranger.key"
	assert_success

	web_config "  client_auth_type: VerifyClientCertIfGiven" "  client_ca_file: ca.pem"
	run https /metrics
	assert_success
	run https /metrics --cert "$W/stranger.pem" --key "$W/stranger.key"
	[[ $status -ne 0 ]]
	run https /metrics --cert "$W/client.pem" --key "$W/client.key"
	assert_success

	web_config "  client_auth_type: RequireAndVerifyClientCert" "  client_ca_file: ca.pem" \
		"  client_allowed_sans: [other.test]"
	run https /metrics --cert "$W/client.pem" --key "$W/client.key"
	[[ $status -ne 0 ]]
	web_config "  client_auth_type: RequireAndVerifyClientCert" "  client_ca_file: ca.pem" \
		"  client_allowed_sans: [scraper.test]"
	run https /metrics --cert "$W/client.pem" --key "$W/client.key"
	assert_success
}

@test "max_version, cipher_suites and curve_preferences limit what is negotiated" {
	web_config "  max_version: TLS12" \
		"  cipher_suites: [TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]" \
		"  curve_preferences: [CurveP384]"
	serve listen
	run https /metrics --tlsv1.3
	[[ $status -ne 0 ]]
	run https /metrics -v --tls-max 1.2
	assert_success
	assert_output --partial 'TLSv1.2 / ECDHE-ECDSA-CHACHA20-POLY1305'
	run https /metrics --tls-max 1.2 --curves X25519
	[[ $status -ne 0 ]]
}

@test "basic auth without TLS: a plain endpoint asks for the password too" {
	printf 'basic_auth_users:\n  prometheus: %s\n' "'$HASH_SECRET'" >"$W/web.yml"
	serve listen
	run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"
	assert_output 401
	run curl -sS -o "$W/body" -w '%{http_code}' -u prometheus:secret "http://127.0.0.1:$PORT/metrics"
	assert_output 200
	assert_body_is_the_metrics
}

@test "inetd: an unusable web configuration answers 500 and logs the key, never plain metrics" {
	printf 'tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  min_version: TLS9\n' >"$W/web.yml"
	serve inetd
	run curl -sS -D "$W/head" --max-time 10 "http://127.0.0.1:$PORT/metrics"
	refute_output --partial 'texporter_'
	assert_output --partial '500 Internal Server Error'
	run status_line
	assert_output 'HTTP/1.1 500 Internal Server Error'
	run grep -c 'tls_server_config.min_version: bad value "TLS9"' "$W/server.log"
	assert_output 1
	# Fixed, the next connection is served.
	web_config
	run https /metrics
	assert_success
	assert_body_is_the_metrics
}

@test "--listen: an unusable web configuration after start is a 500 for that connection only" {
	web_config
	serve listen
	echo 'bogus_key: 1' >>"$W/web.yml"
	run curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"
	assert_output 500
	run grep -c 'web.yml:4: bogus_key: unknown key' "$W/server.log"
	assert_output 1
	web_config
	run https /metrics
	assert_success
}

@test "--listen: a client stuck in the TLS handshake does not hold up another" {
	web_config
	serve listen
	# Half a ClientHello record header, then silence.
	/usr/bin/python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01")
time.sleep(8)' "$PORT" &
	echo $! >>"$W/pids"
	sleep 0.3
	local start=$SECONDS
	run https /metrics
	assert_success
	assert_body_is_the_metrics
	((SECONDS - start < 3))
}

@test "the conventional flags: --web.listen-address (repeatable), --web.telemetry-path" {
	local p1 p2
	p1=$(free_port)
	p2=$(free_port)
	"$READER" --pin-root "$PINS" --web.listen-address "127.0.0.1:$p1" \
		--web.listen-address "127.0.0.1:$p2" --web.telemetry-path /texporter/metrics \
		2>"$W/server.log" &
	echo $! >>"$W/pids"
	wait_for_log "$W/server.log" "listening on 127.0.0.1:$p2"
	for port in "$p1" "$p2"; do
		run curl -sS -o "$W/body" -w '%{http_code}' "http://127.0.0.1:$port/texporter/metrics"
		assert_output 200
		assert_body_is_the_metrics
		run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics"
		assert_output 404
		run curl -sS "http://127.0.0.1:$port/"
		assert_output --partial '<a href="/texporter/metrics">'
	done
	run "$READER" --web.telemetry-path 'metrics'
	assert_failure 2
	assert_output --partial "--web.telemetry-path: bad value \"metrics\": use a path starting with '/'"
	run "$READER" --web.systemd-socket --textfile "$W/x.prom"
	assert_failure 2
	assert_output --partial 'exclude each other'
}

@test "--web.systemd-socket without a socket from systemd is an error naming the fix" {
	run "$READER" --pin-root "$PINS" --web.systemd-socket </dev/null
	assert_failure 2
	assert_output --partial 'systemd passed no socket'
}

@test "the reader without capabilities serves TLS with a key readable by its group only" {
	local group=txweb$RANDOM
	groupadd "$group"
	echo "$group" >"$W/group"
	chown "root:$group" "$W/server.key"
	chmod 0640 "$W/server.key"
	web_config
	chown "root:$group" "$W/web.yml"
	chmod 0640 "$W/web.yml"
	chown -R "root:$group" "$PINS/eth0"
	chmod 0750 "$PINS/eth0"
	chmod 0440 "$PINS"/eth0/*
	PORT="$(free_port)"
	setpriv --reuid=nobody --regid=nogroup --groups="$group" --inh-caps=-all --bounding-set=-all \
		"$READER" --pin-root "$PINS" --web.config.file "$W/web.yml" \
		--listen "127.0.0.1:$PORT" 2>"$W/server.log" &
	echo $! >>"$W/pids"
	wait_for_log "$W/server.log" 'listening on'
	run grep -E '^Cap(Eff|Prm):' "/proc/$!/status"
	assert_output $'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000'
	run https /metrics
	assert_success
	assert_body_is_the_metrics

	# Without the group, the key is out of reach: the error says what to do.
	run setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		"$READER" --pin-root "$PINS" --web.config.file "$W/web.yml" \
		--listen "127.0.0.1:$(free_port)"
	assert_failure 2
	assert_output --partial "cannot read $W/web.yml: Permission denied (make it readable by the reader's group)"
}

