# Sourced by the CLI tests of results: check NAME COMMAND... (counts checks
# in n and failures in fail, prints ok/FAIL), same_result DIR_A DIR_B (two
# diff results equal file by file, summary.json but for its timing), secs
# T0 T1 (seconds between two `date +%s.%N` stamps), and start_busy /
# stop_busy (a busy shell loop beside the test, running when start_busy
# returns; stopped by stop_busy or on exit).
n=${n:-0}
fail=${fail:-0}
check() {
    n=$((n + 1))
    if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=$((fail + 1)); fi
}
same_result() {
    local f
    for f in state.jsonl summary.csv layers.csv flips.csv; do
        cmp -s "$1/$f" "$2/$f" || { echo "    $f differs"; return 1; }
    done
    /usr/bin/python3 - "$1/summary.json" "$2/summary.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for d in (a, b):
    d.pop("timing")
sys.exit(0 if a == b else 1)
PY
}
secs() { awk "BEGIN { printf \"%.1f\", $2 - $1 }"; }
busy=
stop_busy() { [ -n "$busy" ] && kill "$busy" 2>/dev/null && wait "$busy" 2>/dev/null; busy=; }
start_busy() {
    trap stop_busy EXIT INT TERM
    sh -c 'while :; do :; done' &
    busy=$!
    local i
    for i in $(seq 1 50); do
        [ "$(awk '{print $3}' /proc/$busy/stat 2>/dev/null)" = R ] && break
        sleep 0.1
    done
}
