#!/bin/bash
# Runs the op suite (deltakern selftest --no-conformance) once per variant,
# each in its own process (some options, such as onednn's isa, are
# process-wide and can be set only once).
#   each_variant.sh DELTAKERN [selftest arguments...]
# The variants are those of `deltakern selftest --all-options --list-variants`.
# Fails when any run fails; prints each run's summary lines.
set -u
dk=$1
shift
variants=$("$dk" selftest --all-options --list-variants) || exit 1
status=0
while IFS= read -r v; do
  out=$("$dk" selftest --no-conformance --backend "$v" "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out"
    echo "each_variant: $v: exit status $rc"
    status=1
  else
    printf '%s\n' "$out" | grep -E '^(summary|selftest:|.*unavailable)' | sed "s/^/[$v] /"
  fi
done <<< "$variants"
exit $status
