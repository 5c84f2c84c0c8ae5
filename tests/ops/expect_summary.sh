#!/bin/bash
# Runs the op suite (a `deltakern selftest` command line) and checks its exit
# status and summary line.
#   expect_summary.sh all-fail|all-pass COMMAND...
# all-fail: exit status 1 and no case passed or was mistrusted (every
#           compared case failed): an injected error must never slip through;
# all-pass: exit status 0 and no case failed.
# A run in which nothing was compared (all skipped) is itself a failure.
set -u
mode=$1
shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
summary=$(printf '%s\n' "$out" | grep '^summary:' | tail -n 1)
if [ -z "$summary" ]; then
  echo "expect_summary: no summary line (exit status $rc)"
  exit 1
fi
num() { printf '%s\n' "$summary" | sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p"; }
cases=$(printf '%s\n' "$summary" | sed -n 's/^summary: \([0-9][0-9]*\) cases.*/\1/p')
passed=$(num passed); failed=$(num failed); mistrusted=$(num mistrusted); skipped=$(num skipped)
compared=$((cases - skipped))
if [ "$compared" -le 0 ]; then
  echo "expect_summary: nothing was compared ($summary)"
  exit 1
fi
case $mode in
  all-fail)
    if [ "$rc" -ne 1 ] || [ "$passed" -ne 0 ] || [ "$mistrusted" -ne 0 ] || [ "$failed" -ne "$compared" ]; then
      echo "expect_summary: expected every compared case to fail with exit status 1, got status $rc: $summary"
      exit 1
    fi ;;
  all-pass)
    if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
      echo "expect_summary: expected no failure and exit status 0, got status $rc: $summary"
      exit 1
    fi ;;
  *) echo "expect_summary: unknown mode $mode"; exit 2 ;;
esac
echo "expect_summary: $mode as expected ($compared cases compared)"
