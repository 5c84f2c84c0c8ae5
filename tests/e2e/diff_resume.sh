#!/bin/bash
# Ctrl-C after the first input writes a valid partial result (complete: false,
# exit 130); --resume continues it to the same final result as an
# uninterrupted run.
# usage: diff_resume.sh DELTAKERN SOURCE_DIR MODEL_DIR WORK
set -u
DK=$1; SRC=$2; DIR=$3; WORK=$4
PY=/usr/bin/python3
FILE="$DIR/mobilenet_v2.onnx"
[ -f "$FILE" ] || { echo "SKIP: $FILE is missing (the e2e.mobilenet_v2 test exports it)"; exit 77; }
$PY -c "import numpy" 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK"
ARGS=(-i "$SRC/data/images/astronaut.png" -i "$SRC/data/images/chelsea.png" -i "$SRC/data/images/coffee.png" -v openblas -v "fault:base=onednn,node=/features/features.16/conv/conv.2/Conv,kind=noise,scale=30000" -q)
"$DK" diff "$FILE" "${ARGS[@]}" -o "$WORK/full" || exit 1
"$DK" diff "$FILE" "${ARGS[@]}" -o "$WORK/part" &
pid=$!
# wait for the first record (the header is line 1), then interrupt
for _ in $(seq 1 600); do
    [ "$(wc -l < "$WORK/part/state.jsonl" 2>/dev/null || echo 0)" -ge 2 ] && break
    sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || { echo "FAIL: the interrupted run exited with $rc, not 130"; exit 1; }
grep -q '"complete":	false' "$WORK/part/summary.json" || { echo "FAIL: the partial summary is not marked incomplete"; exit 1; }
$PY -c "import json,sys; s=json.load(open(sys.argv[1])); assert 1 <= s['images'] < 3, s['images']; print('ok: partial result with', s['images'], 'of 3 inputs')" "$WORK/part/summary.json" || exit 1
# without --resume or --force the partial result is kept
if "$DK" diff "$FILE" "${ARGS[@]}" -o "$WORK/part" 2> "$WORK/err"; then echo "FAIL: overwrote results"; exit 1; fi
grep -q "use --force to overwrite or --resume to continue" "$WORK/err" || { cat "$WORK/err"; exit 1; }
"$DK" diff "$FILE" "${ARGS[@]}" -o "$WORK/part" --resume || exit 1
$PY "$SRC/tests/tools/check_diff.py" same "$WORK/full" "$WORK/part"
