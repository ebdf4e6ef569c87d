#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, run sluiced in the
# foreground (data in ./sluice-data, API on http://127.0.0.1:7070).
# Extra arguments go to sluiced, e.g. ./run.sh --listen 127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec build/sluiced "$@"
