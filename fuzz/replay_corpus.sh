#!/usr/bin/env bash
# Replays one fuzz target's committed seed corpus (args: the target binary, the corpus
# directory relative to the workspace root). Fails when the corpus is missing or empty,
# so a target cannot silently lose its seeds.
set -euo pipefail
binary=$1
corpus=$2
if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
  echo "no seed corpus at $corpus" >&2
  exit 1
fi
# Files, not the directory: libFuzzer's own main (the --config=fuzz build, which the
# sanitizer pass of tools/test uses) runs named files once but fuzzes a directory forever.
exec "$binary" "$corpus"/*
