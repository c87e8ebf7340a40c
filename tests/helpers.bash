# Shared Bats helpers for texporter's tests: `load helpers` in every file.
#
# Each test builds its own world: two network namespaces joined by a veth
# pair, and a private bpffs for the pins. Nothing touches the machine's own
# interfaces or /sys/fs/bpf. tx_teardown removes it all, pass or fail.
#
#   setup()    { tx_setup_bpffs; tx_setup_pair; }
#   teardown() { tx_teardown; }

tx_load_bats_libraries() {
	local lib
	for lib in bats-support bats-assert bats-file; do
		if declare -F bats_load_library >/dev/null; then
			bats_load_library "$lib"
		else
			load "/usr/lib/bats/$lib/load"
		fi
	done
}
tx_load_bats_libraries

TX_REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
TX_TOOLS=$TX_REPO/tests/tools
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$TX_REPO/$BUILD
PYTHON=${PYTHON:-python3}

# Fixed per-namespace values: interface names and MACs live inside the
# test's own namespaces, so parallel runs cannot collide on them.
IF_A=txa0
IF_B=txb0
MAC_A=02:91:00:00:00:0a
MAC_B=02:91:00:00:00:0b
IP4_A=10.91.0.1
IP4_B=10.91.0.2
IP6_A=fd00:91::1
IP6_B=fd00:91::2
export IF_A IF_B MAC_A MAC_B IP4_A IP4_B IP6_A IP6_B BUILD TX_REPO TX_TOOLS PYTHON

# --- namespaces and the veth pair -------------------------------------------

tx_random_suffix() {
	od -An -N3 -tx1 /dev/urandom | tr -d ' \n'
}

# Namespace names must be unique machine-wide; retry on the rare clash.
tx_create_namespaces() {
	local suffix _
	for _ in 1 2 3 4 5; do
		suffix=$(tx_random_suffix)
		NS_A=tx${suffix}a NS_B=tx${suffix}b
		export NS_A NS_B
		if ip netns add "$NS_A" 2>/dev/null; then
			ip netns add "$NS_B" && return 0
			ip netns delete "$NS_A"
		fi
	done
	echo "tx_create_namespaces: could not create namespaces tx<suffix>a/b" >&2
	return 1
}

# Run a command inside namespace NS. nsenter changes only the network
# namespace; `ip netns exec` would also remount /sys and hide our bpffs.
tx_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# IPv6 sends packets on its own when a link comes up; switched off before
# it does: link-local address generation (and its DAD), DAD for any
# address, router solicitations, RA processing.
tx_quiet_ipv6() {
	local ns=$1 ifname=$2 key
	for key in all default "$ifname"; do
		tx_in "$ns" sysctl -qw \
			"net.ipv6.conf.$key.accept_ra=0" \
			"net.ipv6.conf.$key.router_solicitations=0" \
			"net.ipv6.conf.$key.dad_transmits=0" \
			"net.ipv6.conf.$key.accept_dad=0" || return
	done
	tx_in "$ns" ip link set dev "$ifname" addrgenmode none
}

# Addresses plus permanent neighbour entries for the peer, so that neither
# ARP nor neighbour discovery ever has to ask.
# `arp off` (IFF_NOARP) is what silences the last noise: without it every
# IPv6 address joins its solicited-node group and the kernel sends two MLDv2
# reports per side after link-up, nodad or not. Side effect: an address with
# no static entry resolves to the interface's own MAC, so such packets still
# cross the pair but the peer's stack drops them as addressed to another host.
tx_configure_side() {
	local ns=$1 ifname=$2 mac=$3 ip4=$4 ip6=$5 peer_mac=$6 peer4=$7 peer6=$8
	tx_in "$ns" ip link set dev lo up || return
	tx_in "$ns" ip link set dev "$ifname" address "$mac" arp off || return
	tx_quiet_ipv6 "$ns" "$ifname" || return
	tx_in "$ns" ip addr add "$ip4/24" dev "$ifname" || return
	tx_in "$ns" ip -6 addr add "$ip6/64" dev "$ifname" nodad || return
	tx_in "$ns" ip neigh add "$peer4" lladdr "$peer_mac" nud permanent dev "$ifname" || return
	tx_in "$ns" ip -6 neigh add "$peer6" lladdr "$peer_mac" nud permanent dev "$ifname"
}

# Poll COMMAND every 0.1 s until it succeeds; fail after SECONDS.
#   tx_wait_until 5 test -s "$file"
tx_wait_until() {
	local seconds=$1 deadline
	shift
	deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "tx_wait_until: still failing after ${seconds}s: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

tx_link_has_carrier() {
	tx_in "$1" ip -br link show dev "$2" | grep -q LOWER_UP
}

# The veth IF_A<->IF_B between the existing NS_A and NS_B, addressed and
# with static neighbours, quiet: the only packets on it are a test's own.
# Also recreates the pair after a test deleted it.
tx_make_pair() {
	# Created directly inside the namespaces: the fixed names never exist
	# in the root namespace, even for an instant.
	ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B" || return 1
	tx_configure_side "$NS_A" "$IF_A" "$MAC_A" "$IP4_A" "$IP6_A" "$MAC_B" "$IP4_B" "$IP6_B" || return 1
	tx_configure_side "$NS_B" "$IF_B" "$MAC_B" "$IP4_B" "$IP6_B" "$MAC_A" "$IP4_A" "$IP6_A" || return 1
	tx_in "$NS_A" ip link set dev "$IF_A" up || return 1
	tx_in "$NS_B" ip link set dev "$IF_B" up || return 1
	tx_wait_until 5 tx_link_has_carrier "$NS_A" "$IF_A" &&
		tx_wait_until 5 tx_link_has_carrier "$NS_B" "$IF_B"
}

# Two namespaces NS_A/NS_B joined by the pair tx_make_pair makes.
tx_setup_pair() {
	tx_create_namespaces || return 1
	tx_make_pair
}

# tx_ping_b FAMILY COUNT SIZE: COUNT echo requests of SIZE data bytes from
# NS_A to NS_B, every one answered (asserted).
tx_ping_b() {
	local family=$1 count=$2 size=$3 dst=$IP4_B
	[[ $family == ipv6 ]] && dst=$IP6_B
	run tx_in "$NS_A" ping -q -c "$count" -s "$size" -i 0.05 -W 2 "$dst"
	assert_success
	assert_output --partial "$count packets transmitted, $count received,"
}

# Whether the running kernel is at least MAJOR.MINOR.
tx_kernel_at_least() {
	local major minor
	IFS=. read -r major minor _ <<<"$(uname -r)"
	((major > $1 || (major == $1 && minor >= $2)))
}

# The TC attachment texporter-load picks by default here: TCX links exist
# on Linux >= 6.6; before that, `auto` falls back to legacy clsact.
tx_default_tc_mode() {
	if tx_kernel_at_least 6 6; then
		echo tcx
	else
		echo legacy
	fi
}

# The data plane a load on this kernel builds for a small config with XDP
# ingress, as texporter-load's one-line output ends.
tx_default_dataplane() {
	if tx_kernel_at_least 5 18; then
		echo "xdp multi-buffer, range table in 1 element"
	else
		echo "xdp single-buffer, range table in 1 element"
	fi
}

# Whether this kernel lets no process without CAP_BPF use bpf(2), not even
# to open a pin read-only: before 5.19, while
# kernel.unprivileged_bpf_disabled is set.
tx_kernel_needs_cap_bpf() {
	! tx_kernel_at_least 5 19 &&
		[[ $(cat /proc/sys/kernel/unprivileged_bpf_disabled) != 0 ]]
}

# setpriv's capability options for an unprivileged reader on this kernel:
# none, or CAP_BPF alone where tx_kernel_needs_cap_bpf.
tx_reader_caps() {
	if tx_kernel_needs_cap_bpf; then
		echo --inh-caps=-all,+bpf --ambient-caps=+bpf --bounding-set=-all,+bpf
	else
		echo --inh-caps=-all --bounding-set=-all
	fi
}

# How texporter-load and --status describe the default egress attachment
# on this kernel: "tc (tcx)" or "tc (legacy clsact)".
tx_default_egress_words() {
	if [[ $(tx_default_tc_mode) == tcx ]]; then
		echo "tc (tcx)"
	else
		echo "tc (legacy clsact)"
	fi
}

# One counter of an interface (rx_packets, rx_bytes, tx_packets, tx_bytes,
# rx_dropped, tx_dropped), read through the namespace's /proc/net/dev:
# /sys/class/net shows the root namespace's devices, whatever the caller's.
tx_link_stat() {
	local ns=$1 ifname=$2 stat=$3 column
	case $stat in
	rx_bytes) column=1 ;; rx_packets) column=2 ;; rx_dropped) column=4 ;;
	tx_bytes) column=9 ;; tx_packets) column=10 ;; tx_dropped) column=12 ;;
	*) echo "tx_link_stat: unknown counter $stat" >&2; return 2 ;;
	esac
	tx_in "$ns" cat /proc/net/dev |
		awk -v ifname="$ifname" -v column="$column" '
			{ sub(/^ +/, "") }
			index($0, ifname ":") == 1 { sub(/:/, " "); print $(column + 1); found = 1 }
			END { exit !found }'
}

# --- bpffs ------------------------------------------------------------------

# A private bpffs instance per test (or per file, from setup_file): pins
# made by one test are invisible to every other and vanish at unmount.
tx_setup_bpffs() {
	local base=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-}}
	[[ -n $base ]] || base=$(mktemp -d) || return
	TX_BPFFS=$base/bpffs
	mkdir -p "$TX_BPFFS" || return
	mount -t bpf bpf "$TX_BPFFS" || return
	PIN_ROOT=$TX_BPFFS/texporter
	export TX_BPFFS PIN_ROOT
}

# --- texporter binaries -----------------------------------------------------

# texporter-load inside namespace NS, pinning under PIN_ROOT.
tx_load() {
	local ns=$1
	shift
	tx_in "$ns" "$BUILD/texporter-load" --pin-root "$PIN_ROOT" "$@"
}

# texporter-read inside namespace NS, reading pins under PIN_ROOT.
tx_read() {
	local ns=$1
	shift
	tx_in "$ns" "$BUILD/texporter-read" --pin-root "$PIN_ROOT" "$@"
}

# Value of the one series NAME{LABELS} in Prometheus text (TEXT, "-" for
# stdin, default: $output of the last `run`); 0 when the series is absent.
#   tx_metric texporter_captured_bytes_total 'iface="txa0",family="ipv4",src="lan",dst="peer"'
# Labels are compared as an exact string, in the order the reader sorts them.
tx_metric() {
	local name=$1 labels=${2:-} text=${3-${output:-}} series
	series=$name
	[[ -n $labels ]] && series="$name{$labels}"
	[[ $text == - ]] && text=$(cat)
	# ENVIRON, not -v: awk would interpret the backslashes of escaped labels.
	TX_SERIES=$series awk '
		BEGIN { want = ENVIRON["TX_SERIES"] " " }
		index($0, want) == 1 { split(substr($0, length(want) + 1), v, " "); print v[1]; found = 1; exit }
		END { if (!found) print 0 }' <<<"$text"
}

# Write a texporter config to FILE from RANGE arguments "NAME=CIDR,CIDR,...";
# each CIDR goes to ipv6 when it contains ':' and to ipv4 otherwise.
# The name is everything before the last '=' and may hold any text.
#   tx_write_config "$BATS_TEST_TMPDIR/ranges.json" lan=10.91.0.0/24,fd00:91::/64 peer=10.91.0.2
tx_write_config() {
	local file=$1
	shift
	"$PYTHON" - "$file" "$@" <<-'EOF'
		import json, sys
		ranges = []
		for arg in sys.argv[2:]:
		    name, _, cidrs = arg.rpartition("=")
		    items = [c for c in cidrs.split(",") if c]
		    ranges.append({"name": name,
		                   "ipv4": [c for c in items if ":" not in c],
		                   "ipv6": [c for c in items if ":" in c]})
		with open(sys.argv[1], "w", encoding="utf-8") as f:
		    json.dump(ranges, f, ensure_ascii=False, indent=2)
		    f.write("\n")
	EOF
}

# --- traffic ----------------------------------------------------------------

# Raw frames from namespace NS: tx_sendraw NS --iface IF --src A --dst B ...
tx_sendraw() {
	local ns=$1
	shift
	tx_in "$ns" "$PYTHON" "$TX_TOOLS/sendraw.py" "$@"
}

# tx_sendraw_from SIDE FAMILY ARGS...: raw frames of FAMILY (4 or 6) from
# SIDE's address to the other side's, sent by SIDE: a on IF_A (they meet
# IF_A's TC egress), b on IF_B (IF_A's ingress hook). Asserts that sendraw
# sent them.
tx_sendraw_from() {
	local side=$1 family=$2 ns=$NS_A ifname=$IF_A src=$IP4_A dst=$IP4_B
	shift 2
	[[ $family == 6 ]] && src=$IP6_A dst=$IP6_B
	if [[ $side == b ]]; then
		ns=$NS_B ifname=$IF_B src=$IP4_B dst=$IP4_A
		[[ $family == 6 ]] && src=$IP6_B dst=$IP6_A
	fi
	run tx_sendraw "$ns" --iface "$ifname" --src "$src" --dst "$dst" "$@"
	assert_success
}

# tx_on_every_ingress_hook CONFIG COMMAND...: once per ingress hook of
# texporter-load (XDP native, XDP generic, TC), load CONFIG on IF_A in NS_A
# with it, run COMMAND (it sends, reads and asserts; TX_HOOK holds the
# hook's options), and detach again, so that each hook counts from zero.
tx_on_every_ingress_hook() {
	local config=$1 hook
	shift
	for hook in "--xdp-mode native" "--xdp-mode generic" "--ingress tc"; do
		TX_HOOK=$hook
		echo "# ingress hook: $hook" >&2
		# $hook unquoted: two words
		run tx_load "$NS_A" -i "$IF_A" -f "$config" $hook
		assert_success
		"$@"
		run tx_load "$NS_A" -i "$IF_A" --detach
		assert_success
	done
}

# Start a command in namespace NS in the background; its output goes to a
# log in the test's tmp dir. Sets TX_BG_PID and TX_BG_LOG (not printed: a
# command substitution would run it in a subshell that teardown cannot see).
# Closing fd 3 matters: Bats waits for everyone holding it.
tx_bg() {
	local ns=$1
	shift
	TX_BG_LOG=$(mktemp "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-/tmp}}/bg.XXXXXX") || return
	tx_in "$ns" "$@" >"$TX_BG_LOG" 2>&1 3>&- &
	TX_BG_PID=$!
	TX_BG_PIDS+=("$TX_BG_PID")
}

# --- certificates and passwords for --web.config.file -----------------------

# tx_make_cert DIR NAME CN [ISSUER]: DIR/NAME.key and DIR/NAME.pem, made by
# openssl: a self-signed CA without ISSUER, else a certificate ISSUER
# signed, with SANs for 127.0.0.1, localhost and CN.
tx_make_cert() {
	local dir=$1 name=$2 cn=$3 issuer=${4:-}
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$dir/$name.key" 2>/dev/null || return
	if [[ -z $issuer ]]; then
		openssl req -x509 -new -key "$dir/$name.key" -subj "/CN=$cn" -days 2 \
			-addext basicConstraints=critical,CA:TRUE -out "$dir/$name.pem" 2>/dev/null
		return
	fi
	openssl req -new -key "$dir/$name.key" -subj "/CN=$cn" 2>/dev/null |
		openssl x509 -req -CA "$dir/$issuer.pem" -CAkey "$dir/$issuer.key" -days 2 \
			-extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:%s\n' "$cn") \
			-out "$dir/$name.pem" 2>/dev/null
}

# tx_bcrypt PASSWORD: its bcrypt hash ($2b$, cost 10), made by libcrypt.
tx_bcrypt() {
	"$PYTHON" -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10)))' "$1"
}

# --- teardown ---------------------------------------------------------------

tx_kill_processes() {
	local pids=("${TX_BG_PIDS[@]}") ns
	for ns in "${NS_A:-}" "${NS_B:-}"; do
		[[ -n $ns && -e /run/netns/$ns ]] || continue
		mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
	done
	((${#pids[@]})) || return 0
	kill "${pids[@]}" 2>/dev/null
	sleep 0.1
	kill -9 "${pids[@]}" 2>/dev/null
	# Only our own pids: a bare `wait` would wait for Bats' jobs too.
	((${#TX_BG_PIDS[@]})) && wait "${TX_BG_PIDS[@]}" 2>/dev/null
	TX_BG_PIDS=()
}

tx_detach() {
	local ns=$1 ifname=$2
	[[ -n $ns && -e /run/netns/$ns && -n ${PIN_ROOT:-} && -d $PIN_ROOT/$ifname ]] || return 0
	[[ -x $BUILD/texporter-load ]] || return 0
	tx_load "$ns" -i "$ifname" --detach >/dev/null 2>&1
}

tx_delete_namespaces() {
	local ns
	for ns in "${NS_A:-}" "${NS_B:-}"; do
		[[ -n $ns && -e /run/netns/$ns ]] && ip netns delete "$ns"
	done
}

tx_unmount_bpffs() {
	[[ -n ${TX_BPFFS:-} ]] || return 0
	if mountpoint -q "$TX_BPFFS"; then
		umount "$TX_BPFFS" || umount -l "$TX_BPFFS"
	fi
	rmdir "$TX_BPFFS"
}

# Undo everything the helpers set up. Safe to call twice, never fails.
tx_teardown() {
	# `|| true` also keeps Bats' errexit from stopping halfway.
	tx_kill_processes 2>/dev/null || true
	tx_detach "${NS_A:-}" "$IF_A" 2>/dev/null || true
	tx_detach "${NS_B:-}" "$IF_B" 2>/dev/null || true
	tx_delete_namespaces 2>/dev/null || true
	tx_unmount_bpffs 2>/dev/null || true
	return 0
}

TX_BG_PIDS=()
