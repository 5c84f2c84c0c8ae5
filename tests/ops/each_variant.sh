#!/bin/bash
# Runs dk_ops_suite once per variant, each in its own process (some options,
# such as onednn's isa, are process-wide and can be set only once).
#   each_variant.sh SUITE [suite arguments...]
# The variants are those of `SUITE --all-options --list-variants`. Fails when
# any run fails; prints each run's summary line.
set -u
suite=$1
shift
variants=$("$suite" --all-options --list-variants) || exit 1
status=0
while IFS= read -r v; do
  out=$("$suite" --variant "$v" "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out"
    echo "each_variant: $v: exit status $rc"
    status=1
  else
    printf '%s\n' "$out" | grep -E '^(  variant|summary|.*unavailable)' | sed "s/^/[$v] /"
  fi
done <<< "$variants"
exit $status
