#!/bin/bash
# Runs the Python whole-process test named by $1 (under tests/) with the system python3
# (Bazel 4's py_test stub wants a `python` on PATH, which Debian does not have).
script="$1"
shift
exec python3 "$TEST_SRCDIR/$TEST_WORKSPACE/tests/$script" "$@"
