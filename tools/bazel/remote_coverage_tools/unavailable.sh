#!/bin/sh
echo "bazel coverage is not available in Almanac's offline build" >&2
exit 1
