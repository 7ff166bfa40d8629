#!/usr/bin/env bash
# Benchmark vmctl on libvirt's test driver: vm.boot received -> libvirt create call, and
# readiness -> vm.ready published (p50/p99): N boots back to back, N boots GAP ms apart, and
# M boots at once. Builds the release tree if needed; prints a Markdown table.
# Usage: bench/vmctl.sh [N [M [GAP_MS]]]   (defaults 500, 100, 5)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j "$(nproc)" \
    --target jitsu-bus jitsu-statestore jitsu-vmctl vmctl_bench >/dev/null
work=$(mktemp -d /tmp/jitsu-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(uname -r), libvirt $(pkg-config --modversion libvirt)"
build/release/bench/vmctl_bench "$PWD/build/release" "$work" "${1:-500}" "${2:-100}" "${3:-5}"
