#!/bin/sh
# Escape suite on this host: the real daemon guards a private test cgroup, the
# attacker (build/tests/escape) is placed in a session through the control socket
# like any MCP server, as user nobody, and tries every technique. Zero escapes.
# The VM runs the same attacker with BPF-LSM (scripts/vmtest).
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - escape suite needs root (sudo make test)"
	exit 1
fi
dir=$(mktemp -d /tmp/mg-esc-XXXXXX)
chmod 755 "$dir"
mkdir -p "$dir/home/.ssh" "$dir/work"
chmod 1777 "$dir/work"
echo "-----BEGIN OPENSSH PRIVATE KEY-----" > "$dir/home/.ssh/id_rsa"
chmod 644 "$dir/home/.ssh/id_rsa" # readable by nobody: only mcpguard stands in the way
chmod 755 "$dir/home" "$dir/home/.ssh"
cat > "$dir/policy.yaml" <<EOP
egress:
  allow_loopback: false
  dns_resolvers: [127.0.0.53]
files:
  rules:
    - name: test-ssh-key
      paths: ["$dir/home/.ssh/id_rsa"]
      basenames: ["id_rsa*"]
EOP
. tests/lib/daemon.sh
mg_daemon_start escape "$dir" || exit 1
MG_ESCAPE_WORKDIR=$dir/work MCPGUARD_CTL_SOCK=$ctl "$O/tests/escape" --protected "$dir/home/.ssh/id_rsa" \
	--daemon-pid "$dpid" --policy "$dir/policy.yaml"
rc=$?
sed 's/^/# daemon: /' "$dir/daemon.log" | tail -20
exit $rc
