#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tests and for trying the
# Slurm pipeline (Pipelines/slurm/submit.sh) before a real cluster:
# Debian's munge, slurmctld and slurmd (installed when missing), with every
# file under one folder, the node's CPUs from nproc and its memory from
# /proc/meminfo.
#
#   eval "$(bash Pipelines/slurm/local-cluster.sh start)"   # prints: export SLURM_CONF=...
#   sbatch ... / squeue / scancel ...
#   bash Pipelines/slurm/local-cluster.sh stop              # nothing left running, the folder removed
#   bash Pipelines/slurm/local-cluster.sh status
#
# The folder is $THINKGRAPH_SLURM_DIR (default /tmp/thinkgraph-slurm), the
# ports $THINKGRAPH_SLURM_PORT and the one after it (default 6817, 6818).
# `start` on a running cluster only prints the export line. Needs root (or
# sudo for the packages and the daemons), as slurmd starts jobs as their user.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${THINKGRAPH_SLURM_DIR:-/tmp/thinkgraph-slurm}"
port="${THINKGRAPH_SLURM_PORT:-6817}"
conf="$dir/slurm.conf"
socket="$dir/munge/munge.socket"

running() {  # the pid in $1 is alive
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Runs a daemon with none of the caller's descriptors: 0-2 from and to the
# log, every other one closed. A caller that waits for a descriptor it gave
# this script to close (Foundation's Process does, for its child's end of a
# socket pair; so does a pipe read to its end) would otherwise wait for the
# daemons to exit.
detached() {
  (
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      if (( fd > 2 )); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
    done
    exec "$@" </dev/null >>"$dir/log/daemons.out" 2>&1
  )
}

cluster_up() {
  running "$dir/munged.pid" && running "$dir/slurmctld.pid" && running "$dir/slurmd.pid"
}

stop() {
  if [ -s "$conf" ] && command -v scancel >/dev/null; then
    SLURM_CONF="$conf" scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
  fi
  for daemon in slurmd slurmctld munged; do
    local pidfile="$dir/$daemon.pid"
    [ -s "$pidfile" ] || continue
    local pid; pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # Job steps slurmd started (slurmstepd) end with it; any left are killed.
  pkill -9 -f "slurmstepd.*$dir" 2>/dev/null || true
  rm -rf "$dir"
}

start() {
  if cluster_up; then echo "export SLURM_CONF=$conf"; return; fi
  stop
  # A port held by any socket (a listener, or an outgoing connection's
  # local end) would leave a daemon unable to bind: say so before starting.
  if command -v ss >/dev/null; then
    local held
    held="$(ss -Htan "( sport = :$port or sport = :$((port + 1)) )" 2>/dev/null || true)"
    if [ -n "$held" ]; then
      echo "local-cluster: port $port or $((port + 1)) is in use; choose others with THINKGRAPH_SLURM_PORT:" >&2
      echo "$held" >&2
      exit 1
    fi
  fi
  bash "$here/../apt-install.sh" munge slurmctld slurmd slurm-client >&2
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  # munged refuses a key, socket folder or log readable by others.
  mungekey --create --keyfile="$dir/munge/munge.key" --force 2>/dev/null \
    || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 600 "$dir/munge/munge.key"
  detached munged --force --socket="$socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
  local node cpus memory
  node="$(hostname -s)"
  cpus="$(nproc)"
  # The node offers its memory less 1 GB for the system (at least 1 GB).
  memory=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024 ))
  (( memory >= 1024 )) || memory=1024
  cat > "$conf" <<EOF
ClusterName=thinkgraph-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=3600
MaxArraySize=10001
KillWait=5
DefMemPerCPU=1024
InactiveLimit=0
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$conf"
  detached slurmctld -f "$conf"
  detached slurmd -f "$conf"
  # Ready when the node is idle.
  for _ in $(seq 1 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -q -E '^(idle|mixed|allocated)'; then
      echo "export SLURM_CONF=$conf"
      echo "local-cluster: one node ($node, $cpus CPUs, $memory MB) in $dir" >&2
      return
    fi
    sleep 0.2
  done
  echo "local-cluster: the node did not come up; logs in $dir/log:" >&2
  tail -n 20 "$dir"/log/*.log >&2 || true
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if cluster_up; then SLURM_CONF="$conf" sinfo; else echo "local-cluster: not running" >&2; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
