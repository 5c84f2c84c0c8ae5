# Sourced by the Slurm tests: a one-node Slurm cluster on localhost, every
# file of it in one directory (Debian's slurmctld, slurmd and munge; root).
#   slurm_cluster_start DIR   starts munged, slurmctld and slurmd; exports
#                             SLURM_CONF; returns 1 with the reason in
#                             SLURM_CLUSTER_WHY when a daemon will not start
#   slurm_cluster_stop        stops them (also on exit, by trap)
#   slurm_wait JOBID... [--timeout S]  waits until the jobs have left the queue
SLURM_CLUSTER_DIR=

# two free TCP ports on 127.0.0.1 for slurmctld and slurmd
slurm_free_ports() {
    /usr/bin/python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

slurm_cluster_start() {
    local d=$1 host ports ctld_port slurmd_port sbin=/usr/sbin i
    SLURM_CLUSTER_WHY=
    for p in munged slurmctld slurmd; do
        [ -x "$sbin/$p" ] || { SLURM_CLUSTER_WHY="no $sbin/$p (Debian: munge, slurmctld, slurmd)"; return 1; }
    done
    [ "$(id -u)" = 0 ] || { SLURM_CLUSTER_WHY="slurmd must run as root to start jobs"; return 1; }
    rm -rf "$d" && mkdir -p "$d/key" "$d/run" "$d/state" "$d/spool" "$d/log" || return 1
    SLURM_CLUSTER_DIR=$d
    trap slurm_cluster_stop EXIT
    chmod 700 "$d/key"
    head -c 128 /dev/urandom > "$d/key/munge.key" && chmod 600 "$d/key/munge.key"
    # -f: the test's own directories, not /etc/munge's, whose rights it checks
    if ! "$sbin/munged" -f --key-file="$d/key/munge.key" --socket="$d/run/munge.sock" \
        --pid-file="$d/run/munged.pid" --log-file="$d/log/munged.log" --seed-file="$d/run/munged.seed" \
        2> "$d/log/munged.err"; then
        SLURM_CLUSTER_WHY="munged: $(tail -n 1 "$d/log/munged.err")"
        return 1
    fi
    host=$(hostname -s)
    ports=$(slurm_free_ports) || { SLURM_CLUSTER_WHY="no free port on 127.0.0.1"; return 1; }
    read -r ctld_port slurmd_port <<< "$ports"
    cat > "$d/slurm.conf" <<EOF
ClusterName=deltakern
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/run/munge.sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=deltakern Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
    export SLURM_CONF=$d/slurm.conf
    # the daemons log their reasons, not their stderr: the first error says why
    "$sbin/slurmctld" -f "$SLURM_CONF" -i 2> "$d/log/slurmctld.err" ||
        { SLURM_CLUSTER_WHY="slurmctld: $(slurm_first_error slurmctld)"; return 1; }
    "$sbin/slurmd" -f "$SLURM_CONF" 2> "$d/log/slurmd.err" ||
        { SLURM_CLUSTER_WHY="slurmd: $(slurm_first_error slurmd)"; return 1; }
    for i in $(seq 1 60); do
        [ "$(sinfo -h -o %T 2> /dev/null)" = idle ] && break
        sleep 0.5
    done
    if [ "$(sinfo -h -o %T 2> /dev/null)" != idle ]; then
        SLURM_CLUSTER_WHY="the node did not come up in 30 s: $(slurm_last_error)"
        return 1
    fi
    # a trivial job first: a cluster that cannot run one is this machine's limit
    local probe
    if ! probe=$(sbatch --parsable --output="$d/log/probe.out" --wrap 'echo probe ran' 2>&1); then
        SLURM_CLUSTER_WHY="sbatch: $probe"
        return 1
    fi
    slurm_wait "$probe" --timeout 60 > /dev/null
    grep -q "probe ran" "$d/log/probe.out" 2> /dev/null && return 0
    SLURM_CLUSTER_WHY="a trivial job did not run in 60 s: $(slurm_last_error)"
    return 1
}

slurm_first_error() {  # slurm_first_error DAEMON
    local d=$SLURM_CLUSTER_DIR/log
    { grep -hi 'error\|fatal' "$d/$1.log" "$d/$1.err" 2> /dev/null; tail -n 1 "$d/$1.err" 2> /dev/null; } |
        grep -v '^$' | head -n 1
}

slurm_last_error() {
    grep -hi 'error\|fatal' "$SLURM_CLUSTER_DIR/log/slurmd.log" "$SLURM_CLUSTER_DIR/log/slurmctld.log" 2> /dev/null |
        tail -n 1
}

slurm_cluster_stop() {
    local d=$SLURM_CLUSTER_DIR p f
    [ -n "$d" ] || return 0
    for f in slurmd slurmctld munged; do
        p=$(cat "$d/run/$f.pid" 2> /dev/null) && [ -n "$p" ] && kill "$p" 2> /dev/null
    done
    sleep 1
    for f in slurmd slurmctld munged; do
        p=$(cat "$d/run/$f.pid" 2> /dev/null) && [ -n "$p" ] && kill -9 "$p" 2> /dev/null
    done
    SLURM_CLUSTER_DIR=
}

slurm_wait() {
    local timeout=600 jobs=() t
    while [ $# -gt 0 ]; do
        case $1 in --timeout) timeout=$2; shift 2 ;; *) jobs+=("$1"); shift ;; esac
    done
    # every state, finished ones too: a squeue that fails (a busy slurmctld)
    # must not read as "nothing left"; a job id Slurm has already forgotten
    # (MinJobAge) has ended
    local states
    for ((t = 0; t < timeout * 2; t++)); do
        if states=$(squeue -h -t all -o %T -j "$(IFS=,; echo "${jobs[*]}")" 2>&1); then
            grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUE|RESIZING' <<< "$states" || return 0
        elif grep -qi 'invalid job id' <<< "$states"; then
            return 0
        fi
        sleep 0.5
    done
    echo "slurm_wait: jobs ${jobs[*]} still queued after $timeout s"
    return 1
}
