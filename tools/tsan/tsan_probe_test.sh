#!/usr/bin/env bash
# Runs each tsan_probe case in its own process and checks ThreadSanitizer's verdict: the
# deliberate races must be reported (else TSan is blind, and a clean TSan run proves
# nothing), and the correct uses of absl::Mutex, CondVar and Notification must not be
# (else absl_sync_annotations is missing an edge and TSan's reports are noise).
# Only meaningful under --config=tsan; tagged manual, tools/test runs it in its TSan phase.
set -u
probe=$1
must_race=(race unlocked_read race_in_condition)
failures=0

# A report makes TSan exit with 66 at the end of the run (its default exitcode).
run_case() {
  local name=$1 expect=$2 output rc
  output=$("$probe" "$name" 2>&1)
  rc=$?
  if [ "$expect" = race ]; then
    if [ "$rc" -eq 66 ] && grep -q 'WARNING: ThreadSanitizer: data race' <<<"$output"; then
      echo "ok: $name: race reported"
      return
    fi
    echo "FAIL: $name: the deliberate race was not reported (exit $rc)"
  else
    if [ "$rc" -eq 0 ] && ! grep -q 'ThreadSanitizer' <<<"$output"; then
      echo "ok: $name: no report"
      return
    fi
    echo "FAIL: $name: exit $rc, TSan output:"
  fi
  printf '%s\n' "$output" | head -40
  failures=$((failures + 1))
}

cases=$("$probe") || { echo "FAIL: cannot list the probe's cases"; exit 1; }
for name in $cases; do
  expect=clean
  for r in "${must_race[@]}"; do
    [ "$name" = "$r" ] && expect=race
  done
  run_case "$name" "$expect"
done
# Every deliberate race must exist as a case (a renamed case must not pass silently).
for r in "${must_race[@]}"; do
  grep -qx "$r" <<<"$cases" || { echo "FAIL: no case $r"; failures=$((failures + 1)); }
done
echo "$failures failed"
[ "$failures" -eq 0 ]
