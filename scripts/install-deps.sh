#!/bin/bash
# Install what texporter needs to build and to run its test suite, from the
# distribution's packages (Debian 12, Ubuntu 22.04 or later). Run as root;
# safe to run again. Used by `make deps`.
set -euo pipefail

# The one list. bpftool is handled apart: its package name differs.
BUILD_PACKAGES=(make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev
	libcjson-dev libssl-dev libyaml-dev libcrypt-dev pkg-config iproute2
	clang-format)
TEST_PACKAGES=(bats bats-assert bats-support bats-file python3 iputils-ping
	iperf3 tmux ethtool curl openssl tcpdump prometheus prometheus-node-exporter procps
	util-linux kmod systemd mandoc lintian dpkg-dev fakeroot openbsd-inetd
	libclang-rt-dev valgrind strace python3-prometheus-client cppcheck
	qemu-system-x86 busybox-static debian-archive-keyring podman runc python3-yaml
	rpm rpmlint cpio dash shellcheck)
# Installed for their binaries only; the tests run their own instances on
# other ports, so the packaged services must not stay up on 9090/9100.
SERVICES=(prometheus prometheus-node-exporter)

POLICY_RC_D=/usr/sbin/policy-rc.d
OUR_POLICY_RC_D=

say() { echo "install-deps: $*"; }

die() {
	echo "install-deps: error: $*" >&2
	exit 1
}

check_platform() {
	[[ $(id -u) -eq 0 ]] || die "run as root (sudo make deps)"
	command -v apt-get >/dev/null ||
		die "apt-get not found: this script supports Debian and Ubuntu only"
}

apt_install() {
	say "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ||
		die "apt-get install failed for: $*"
}

package_available() {
	# Not a pipe into grep -q: with pipefail, apt-cache's SIGPIPE would count.
	local policy
	policy=$(apt-cache policy "$1" 2>/dev/null)
	[[ $policy == *"Candidate: "[!\(]* ]]
}

# While installing, tell invoke-rc.d / deb-systemd-invoke not to start
# services. An existing policy is the machine owner's: left alone.
block_service_starts() {
	[[ -e $POLICY_RC_D ]] && return 0
	say "blocking service starts during install ($POLICY_RC_D)"
	printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC_D"
	chmod 755 "$POLICY_RC_D"
	OUR_POLICY_RC_D=$POLICY_RC_D
}

unblock_service_starts() {
	[[ -n $OUR_POLICY_RC_D ]] && rm -f "$OUR_POLICY_RC_D"
	OUR_POLICY_RC_D=
}

service_running() {
	if [[ -d /run/systemd/system ]]; then
		systemctl is-active --quiet "$1.service"
	else
		# -f: comm is cut at 15 characters, too short for these names
		pgrep -f "^(/usr/bin/)?$1( |\$)" >/dev/null
	fi
}

stop_service() {
	say "stopping $1, started by its package (the tests need its port free)"
	if [[ -d /run/systemd/system ]]; then
		systemctl stop "$1.service" || true
	elif [[ -x /etc/init.d/$1 ]]; then
		"/etc/init.d/$1" stop || true
	fi
}

# Services already running before this script are the owner's business;
# only those that this install started are stopped again.
declare -A WAS_RUNNING=()
remember_running_services() {
	local service
	for service in "${SERVICES[@]}"; do
		service_running "$service" && WAS_RUNNING[$service]=1
	done
	return 0
}

stop_services_we_started() {
	local service
	for service in "${SERVICES[@]}"; do
		[[ -z ${WAS_RUNNING[$service]:-} ]] && service_running "$service" &&
			stop_service "$service"
	done
	return 0
}

# Debian ships bpftool as a package; Ubuntu has it in linux-tools, whose
# /usr/sbin/bpftool wrapper only works for the running kernel's version.
install_bpftool() {
	if package_available bpftool; then
		apt_install bpftool
		return
	fi
	local tools=(linux-tools-common)
	if package_available "linux-tools-$(uname -r)"; then
		tools+=("linux-tools-$(uname -r)")
	else
		tools+=(linux-tools-generic)
	fi
	apt_install "${tools[@]}"
	bpftool version >/dev/null 2>&1 || link_any_bpftool
}

# A build needs any bpftool; link the newest one linux-tools installed when
# the wrapper refuses to run on a kernel it has no tools for.
link_any_bpftool() {
	local candidates found
	candidates=(/usr/lib/linux-tools/*/bpftool)
	[[ -e ${candidates[0]} ]] || die "no bpftool found after installing linux-tools"
	found=$(printf '%s\n' "${candidates[@]}" | sort -V | tail -n1)
	say "linking /usr/local/sbin/bpftool -> $found"
	ln -sf "$found" /usr/local/sbin/bpftool
}

verify_tools() {
	local tool missing=()
	for tool in make gcc clang llc bpftool pkg-config ip bats python3 ping \
		iperf3 tmux ethtool curl openssl tcpdump prometheus prometheus-node-exporter \
		nsenter mount systemd-socket-activate systemd-analyze mandoc lintian \
		dpkg-deb valgrind qemu-system-x86_64 busybox podman runc; do
		command -v "$tool" >/dev/null || missing+=("$tool")
	done
	((${#missing[@]} == 0)) || die "still missing after install: ${missing[*]}"
	bpftool version >/dev/null 2>&1 || die "bpftool is installed but does not run"
}

# The static build (make static) compiles cJSON from Debian's source
# package: apt needs deb-src entries. Those of the machine's own are kept;
# otherwise one file of ours mirrors its deb entries as deb-src.
OUR_SOURCES=/etc/apt/sources.list.d/texporter-deb-src.sources
enable_deb_src() {
	if apt-get source --print-uris cjson >/dev/null 2>&1; then
		return 0
	fi
	local list
	say "adding deb-src entries for the static build ($OUR_SOURCES)"
	: >"$OUR_SOURCES.tmp"
	for list in /etc/apt/sources.list.d/*.sources; do
		[[ -e $list && $list != "$OUR_SOURCES" ]] || continue
		# Debian's and Ubuntu's archives carry sources; others may not.
		grep -qE 'debian\.org|ubuntu\.com' "$list" || continue
		sed -e 's/^Types:.*\bdeb\b.*$/Types: deb-src/' "$list" >>"$OUR_SOURCES.tmp"
		echo >>"$OUR_SOURCES.tmp"
	done
	for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -e $list ]] || continue
		awk '$1 == "deb" && /debian\.org|ubuntu\.com/ { $1 = "deb-src"; print }' "$list" >>"$OUR_SOURCES.list.tmp"
	done
	mv "$OUR_SOURCES.tmp" "$OUR_SOURCES"
	if [[ -s $OUR_SOURCES.list.tmp ]]; then
		mv "$OUR_SOURCES.list.tmp" "${OUR_SOURCES%.sources}.list"
	else
		rm -f "$OUR_SOURCES.list.tmp"
	fi
	apt-get update || die "apt-get update failed after adding deb-src entries"
}

main() {
	check_platform
	trap unblock_service_starts EXIT
	remember_running_services
	say "apt-get update"
	apt-get update || die "apt-get update failed (network or sources.list?)"
	block_service_starts
	apt_install "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
	install_bpftool
	enable_deb_src
	unblock_service_starts
	stop_services_we_started
	verify_tools
	say "done: build and test dependencies are installed"
}

main "$@"
