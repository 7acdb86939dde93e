#!/bin/bash
# Language-level init.sh: runs after the benchmark-level one.
set -euo pipefail
printf '%s\n' "$@" "$(pwd)" > "$1/init-python.txt"
# Order check: the benchmark-level script has already run.
test -f "$1/init-root.txt"
