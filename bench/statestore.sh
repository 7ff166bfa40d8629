#!/usr/bin/env bash
# Benchmark statestore against etcd (the reference) in one run, at 10 000 services.
# Builds the release tree if needed; prints a Markdown table with ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || apt-get install -y --no-install-recommends etcd-server >/dev/null
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j "$(nproc)" --target jitsu-statestore statestore_bench >/dev/null
work=$(mktemp -d /tmp/jitsu-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(uname -r)"
build/release/bench/statestore_bench build/release/statestore/jitsu-statestore "$work" \
    "$(command -v etcd)"
