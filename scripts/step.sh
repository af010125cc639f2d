#!/usr/bin/env bash
# Run one test step with a clear header and footer (name, result, wall time).
# Usage: scripts/step.sh NAME COMMAND [ARGS...]; exits with the command's status.
set -euo pipefail

name="$1"
shift
start=$SECONDS
printf '\n==== %s ====\n' "$name"
rc=0
"$@" || rc=$?
if (( rc == 0 )); then
    printf '==== %s: OK (%ds) ====\n' "$name" $(( SECONDS - start ))
else
    printf '==== %s: FAILED with exit code %d (%ds) ====\n' "$name" "$rc" $(( SECONDS - start )) >&2
fi
exit "$rc"
