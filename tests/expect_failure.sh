#!/usr/bin/env bash
# expect_failure.sh REASON EXE [ARGS...]: run a canary test executable with CI=true and pass only if it fails and
# its output contains REASON, so that it failed for the reason it exists to show and not for another.
set -u
reason=$1; shift
out=$(CI=true "$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -eq 0 ]; then
  echo "expect_failure: $1 passed, but it must fail ($reason)"
  exit 1
fi
if ! grep -qF -- "$reason" <<<"$out"; then
  echo "expect_failure: $1 failed (exit $rc), but its output does not say: $reason"
  exit 1
fi
echo "expect_failure: failed as it must (exit $rc): $reason"
