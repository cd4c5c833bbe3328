#!/bin/sh
# Install every package mcpguard needs to build, run and test on Debian 12 / Ubuntu.
# Idempotent: only missing packages are installed. Run as root (make run / make test do).
set -eu

# prometheus is only for its promtool (tests parse the metrics exposition with it); on a
# systemd host the package also starts a server: systemctl disable --now prometheus.
PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
libcjson-dev libpcre2-dev libcap-dev libyaml-dev libvectorscan-dev libutf8proc-dev
libsodium-dev libseccomp-dev libicu-dev iproute2 procps prometheus
qemu-system-x86 busybox-static cpio kmod python3"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to install:$missing" >&2
		exit 1
	fi
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi

# Node.js may come from another repository with npm bundled: test the commands.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends nodejs npm
fi

# Ubuntu ships bpftool inside linux-tools; Debian as its own package.
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || {
	echo "deps: bpftool not found after install" >&2
	exit 1
}
