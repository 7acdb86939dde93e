#!/bin/bash
# Benchmark-level init.sh (SeBS contract): $1 = directory holding the function's code,
# $2 = verbose flag, $3 = architecture. Records how it was called.
set -euo pipefail
printf '%s\n' "$@" "$(pwd)" > "$1/init-root.txt"
