#!/bin/bash
# Runs tests/cli_test.py with the system python3 (Bazel 4's py_test stub wants a `python`
# on PATH, which Debian does not have).
exec python3 "$TEST_SRCDIR/$TEST_WORKSPACE/tests/cli_test.py" "$@"
