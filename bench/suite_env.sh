# What the benches on real guests (e2e.sh, tiers.sh) share; sourced, never run.
#
#   bench_env NAME SUBNET DNS_PORT METRICS_PORT
#       the suite's settings under NAME (exported for deploy/suite and jitsuctl) and the
#       variables the benches use: top, root (/tmp/NAME), subnet, port, bin, guest, ctl, fetch,
#       results
#   bench_up SCRIPT CLEANUP
#       needs root and a build; a fresh root, the guests, the suite up, a tap of the bus into
#       $root/tap.jsonl; CLEANUP (a function) and the tap's end run at exit
#   fresh_neighbours
#       empty the neighbour caches of the client and the guests' namespace

bench_env () {
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    root=/tmp/$1
    export JITSU_NAME=$1 JITSU_RUN=$root/run JITSU_STATE=$root/state
    export JITSU_BIN=${JITSU_BIN:-$top/build/release}
    export JITSU_GUEST=${JITSU_GUEST:-/var/cache/jitsu/guest}
    export JITSU_SUBNET=$2 JITSU_DNS_PORT=$3 JITSU_METRICS_PORT=$4
    export JITSU_RUN_DIR=$JITSU_RUN
    subnet=$JITSU_SUBNET
    port=$JITSU_DNS_PORT
    bin=$JITSU_BIN
    guest=$JITSU_GUEST
    ctl="$bin/ctl/jitsuctl"
    fetch="$bin/bench/e2e_fetch"
    results=$root/results.txt
}

bench_up () {
    local script=$1 cleanup=$2
    [ "$(id -u)" -eq 0 ] || { echo "$script: needs root (namespaces, libvirtd)" >&2; exit 1; }
    [ -x "$fetch" ] || { echo "$script: build first ($bin)" >&2; exit 1; }
    trap "$cleanup" EXIT
    rm -rf "$root"
    mkdir -p "$root"
    "$top/deploy/guest/build" "$guest" >/dev/null
    "$top/deploy/suite" up 2>&1 | grep -v '^$' >&2
    "$ctl" tap > "$root/tap.jsonl" 2>/dev/null &
    tap_pid=$!
    trap 'kill $tap_pid 2>/dev/null; '"$cleanup" EXIT
}

fresh_neighbours () {
    ip -n "$JITSU_NAME-client" neigh flush all 2>/dev/null || true
    ip -n "$JITSU_NAME-net" neigh flush all 2>/dev/null || true
}
