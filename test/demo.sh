#!/bin/sh
# `make demo`: a one-node Ganeti cluster under a temporary root on 127.0.0.1, built
# from this checkout. It runs a few jobs, shows the queue, and says how to use and stop it.
set -eu
BIN="$(cd "$(dirname "$0")/.." && pwd)/dist/ganeti"
BASE="$(mktemp -d /tmp/ganeti-demo.XXXXXX)"
NODE=node1
export GANETI_ROOTDIR="$BASE/$NODE" GANETI_HOSTNAME="$NODE"
mkdir -p "$GANETI_ROOTDIR"
"$BIN" links "$BASE/bin" >/dev/null
export PATH="$BASE/bin:$PATH"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run gnt-cluster init --primary-ip 127.0.0.1 --enabled-hypervisors fake cluster.demo
run gnt-cluster getmaster
run gnt-debug delay 0.2
run gnt-debug delay --repeat 3 0.1
run gnt-debug delay --submit 1
say "gnt-debug delay 0    # Ganeti refuses a zero delay"
gnt-debug delay 0 || true
run gnt-job list
run gnt-cluster info | head -12

cat <<EOT

The demo cluster is running (node $NODE on 127.0.0.1:1811, root $BASE).
Use it from a shell with:

  export GANETI_ROOTDIR=$GANETI_ROOTDIR GANETI_HOSTNAME=$NODE PATH=$BASE/bin:\$PATH
  gnt-job list; gnt-job info 1; gnt-debug delay 0.5; gnt-cluster info

Logs are in $GANETI_ROOTDIR/var/log/ganeti/, the job files in
$GANETI_ROOTDIR/var/lib/ganeti/queue/. Stop and remove it with:

  GANETI_ROOTDIR=$GANETI_ROOTDIR GANETI_HOSTNAME=$NODE $BASE/bin/gnt-cluster destroy --yes-do-it && rm -rf $BASE
EOT
