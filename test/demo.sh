#!/bin/sh
# `make demo`: a three-node Ganeti cluster on 127.0.0.1-127.0.0.3, each node under its own
# root in a temporary directory, built from this checkout. node1 is initialised as the
# master; node2 and node3 start their node daemon and are joined with their one-time token
# (no ssh). It runs a few jobs, creates two instances (fake hypervisor, Debian's noop OS
# when installed), shows the nodes, the instances and the queue, and says how to stop it.
# Where qemu is installed and the tests' tiny guest can be built (test/fixtures/guest/:
# Debian's kernel and busybox), it also runs a real qemu instance, vm1 (kvm hypervisor,
# TCG without /dev/kvm), and shows its serial console.
set -eu
BIN="$(cd "$(dirname "$0")/.." && pwd)/dist/ganeti"
BASE="$(mktemp -d /tmp/ganeti-demo.XXXXXX)"
"$BIN" links "$BASE/bin" >/dev/null
export PATH="$BASE/bin:$PATH"

say() { printf '\n\033[1m%s$ %s\033[0m\n' "$NODE" "$*"; }
run() { say "$*"; "$@"; }
on() { NODE=$1; export GANETI_ROOTDIR="$BASE/$1" GANETI_HOSTNAME="$1"; mkdir -p "$GANETI_ROOTDIR"; }

# The instances use the `noop` OS definition: Debian's ganeti-os-noop where installed,
# else the same few scripts below each node's root (the first directory of the OS search path).
noop_os() {
  [ -d /usr/share/ganeti/os/noop ] && return
  d="$GANETI_ROOTDIR/srv/ganeti/os/noop"
  mkdir -p "$d"
  echo 20 >"$d/ganeti_api_version"
  : >"$d/parameters.list"
  for s in create import export rename verify; do printf '#!/bin/sh\nexit 0\n' >"$d/$s"; chmod 755 "$d/$s"; done
}

# A real guest when qemu and the guest's kernel can be had; the fake hypervisor only otherwise.
HERE="$(cd "$(dirname "$0")" && pwd)"
KVM=
if [ -x /usr/bin/qemu-system-x86_64 ] && GUEST=$(sh "$HERE/fixtures/guest/build.sh" 2>"$BASE/guest.err"); then
  KVM=yes
  KERNEL=$(echo "$GUEST" | sed -n 's/^kernel //p')
  INITRD=$(echo "$GUEST" | sed -n 's/^initrd //p')
else
  echo "(no real qemu instance in this demo: $(cat "$BASE/guest.err" 2>/dev/null || echo qemu-system-x86_64 is not installed))"
fi

on node1
noop_os
run gnt-cluster init --primary-ip 127.0.0.1 --enabled-hypervisors fake${KVM:+,kvm} --enabled-disk-templates file,diskless cluster.demo
if [ -n "$KVM" ]; then
  run gnt-cluster modify -H "kvm:kvm_path=/usr/bin/qemu-system-x86_64,kernel_path=$KERNEL,initrd_path=$INITRD"
fi
for n in 2 3; do
  on node$n
  noop_os
  run ganeti-noded -b 127.0.0.$n
  say "ganeti join-token"
  TOKEN=$(ganeti join-token)
  echo "$TOKEN"
  on node1
  run gnt-node add --primary-ip 127.0.0.$n --join-token "$TOKEN" node$n
done
on node1
run gnt-node list
run gnt-node list -o name,pip,role,master_candidate,group
run gnt-debug delay -n node2 -n node3 0.2
run gnt-os list
run gnt-instance add --no-name-check --no-ip-check -t file --disk 0:size=1G -o noop -n node2 web1
run gnt-instance add --no-name-check --no-ip-check -t diskless -o noop -n node3 --no-start db1
if [ -n "$KVM" ]; then
  run gnt-instance add --no-name-check --no-ip-check -t diskless -o noop -n node3 -B maxmem=128 -H "kvm:kernel_args=ro ganeti_name=vm1 quiet" vm1
  say "gnt-instance console vm1 </dev/null | grep -m 3 GANETI-GUEST   # the guest's serial console (TCG boot: a few seconds)"
  timeout 120 gnt-instance console vm1 </dev/null | grep -m 3 GANETI-GUEST || true
fi
run gnt-instance list
run gnt-instance list -o name,status,oper_state,pnode,hypervisor,disk_template,disk.sizes,nic.macs
run gnt-cluster verify || true
run gnt-job list
run gnt-cluster info | head -12

cat <<EOT

The demo cluster is running: node1 (master), node2, node3 on 127.0.0.1-3:1811, under $BASE.
Use it from a shell as node1 with:

  export GANETI_ROOTDIR=$BASE/node1 GANETI_HOSTNAME=node1 PATH=$BASE/bin:\$PATH
  gnt-node list; gnt-instance list; gnt-instance start db1; gnt-instance info web1
  gnt-node modify -D yes --auto-promote node2; gnt-job list; gnt-cluster verify${KVM:+
  gnt-instance console vm1     (Ctrl-] leaves it); gnt-instance reboot vm1; gnt-instance shutdown vm1}

Logs are in <node>/var/log/ganeti/, the configuration and its replicas in
<node>/var/lib/ganeti/config.data. Stop and remove it with:

  for n in node1 node2 node3; do kill \$(cat $BASE/\$n/var/run/ganeti/*.pid $BASE/\$n/var/run/ganeti/kvm-hypervisor/pid/* 2>/dev/null); done; rm -rf $BASE
EOT
