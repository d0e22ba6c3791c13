#!/usr/bin/env bash
# valgrind.sh: run a test executable under memcheck and fail if any process it forked reported an error.
# Criterion runs each test in a child process and does not pass a child's Valgrind exit code on, so every
# process logs to its own file and the logs decide.
set -u
supp=$1; shift
logs=$(mktemp -d)
valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --trace-children=yes \
  --suppressions="$supp" --log-file="$logs/vg.%p.log" "$@"
rc=$?
bad=$(grep -L "ERROR SUMMARY: 0 errors" "$logs"/vg.*.log)
if [ -n "$bad" ]; then
  for f in $bad; do sed -n '1,80p' "$f"; done
  rc=1
fi
rm -rf "$logs"
exit $rc
