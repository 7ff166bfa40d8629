#!/usr/bin/env bash
# Benchmark jitsu-dnsd against NSD 4 (the reference) in one run, on this machine, with dnsperf.
#
#   bench/dnsd.sh                      # defaults below
#   ROUNDS=7 DURATION=10 bench/dnsd.sh # longer
#   PARTS=throughput DNSPERF_OPTS="-c 2 -T 1 -q 1000" bench/dnsd.sh
#
# Both servers answer the same record (www.example.org A 10.0.0.10, TTL 60) on loopback: dnsd
# from a running service in statestore, NSD from a zone file with rrl-ratelimit: 0 and one
# server process. Throughput runs alternate NSD and dnsd, ROUNDS times each, with the same
# dnsperf options; the medians and the ratio dnsd/NSD are printed with each server's CPU time
# per query (utime + stime from /proc, which does not depend on how fast dnsperf can go).
# Then a latency run per server at a fixed rate (dnsperf -v: average, p50, p99), two dnsd
# instances on one port (SO_REUSEPORT) against one, and dnsd's RSS with 10 000 services.
# Prints Markdown. Needs: nsd, dnsperf, dig, jq (deploy/install-deps).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
DNSPERF_OPTS=${DNSPERF_OPTS:--c 1 -T 1 -q 500}
MULTI_OPTS=${MULTI_OPTS:--c 8 -T 1 -q 500}
LATENCY_QPS=${LATENCY_QPS:-50000}
SERVICES=${SERVICES:-10000}
PARTS=${PARTS:-throughput latency multi memory}   # which parts to run
part () { [[ " $PARTS " == *" $1 "* ]]; }

for tool in nsd dnsperf dig jq; do
    command -v "$tool" >/dev/null || { echo "dnsd.sh: $tool is missing (deploy/install-deps)" >&2; exit 1; }
done
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j "$(nproc)" --target jitsu-bus jitsu-statestore jitsuctl jitsu-dnsd >/dev/null
B=$PWD/build/release

work=$(mktemp -d /tmp/jitsu-dnsd-bench-XXXXXX)
export JITSU_RUN_DIR=$work
pids=()
cleanup () {
    # Only the processes this script started, by PID.
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "${nsd_pids[*]:-}" ] && kill "${nsd_pids[@]}" 2>/dev/null || true
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT

ctl () { "$B/ctl/jitsuctl" "$@"; }

# A port free for UDP and TCP on 127.0.0.1 (for NSD; dnsd picks its own with port 0).
free_port () {
    while :; do
        local port=$((20000 + RANDOM % 12000))
        if ! ss -Hlntu "sport = :$port" | grep -q .; then echo "$port"; return; fi
    done
}

# The latest svc.alive counter NAME of dnsd/INSTANCE.
counter () {
    { timeout 10 "$B/ctl/jitsuctl" tap svc.alive 2>/dev/null || true; } \
        | jq --unbuffered -r "select(.src == \"dnsd/$1\") | .body.counters.$2" | head -1 || true
}

# CPU ticks (utime + stime) of PIDS. The command name in /proc/PID/stat may hold spaces
# ("nsd: server 1"): count fields after its closing parenthesis.
ticks () {
    local total=0 pid
    for pid in "$@"; do
        total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

"$B/bus/jitsu-bus" >"$work/bus.log" 2>&1 & pids+=($!)
echo "{\"repo\": \"$work/state.git\"}" >"$work/statestore.json"
"$B/statestore/jitsu-statestore" -c "$work/statestore.json" >"$work/statestore.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do [ -S "$work/state" ] && break; sleep 0.1; done
ctl service add www dns=www.example.org,ip=10.0.0.10,domain=www,ttl=60 >/dev/null
ctl state put /services/www/status "{\"state\":\"ready\",\"since\":$(date +%s%3N)}" >/dev/null

start_dnsd () {  # INSTANCE PORT: sets dnsd_port once it serves (not in a subshell: $pids)
    rm -f "$work/dnsd-$1.port"
    echo "{\"instance\": \"$1\", \"port\": $2, \"port_file\": \"$work/dnsd-$1.port\"}" >"$work/dnsd-$1.json"
    "$B/dnsd/jitsu-dnsd" -c "$work/dnsd-$1.json" >"$work/dnsd-$1.log" 2>&1 &
    pids+=($!)
    echo $! >"$work/dnsd-$1.pid"
    for _ in $(seq 100); do [ -s "$work/dnsd-$1.port" ] && break; sleep 0.1; done
    dnsd_port=$(cat "$work/dnsd-$1.port")
}
stop_dnsd () {
    kill "$(cat "$work/dnsd-$1.pid")"
    while kill -0 "$(cat "$work/dnsd-$1.pid")" 2>/dev/null; do sleep 0.1; done
}
start_dnsd 1 0
dnsd_pid=$(cat "$work/dnsd-1.pid")

nsd_port=$(free_port)
cat >"$work/example.org.zone" <<EOF
\$ORIGIN example.org.
\$TTL 60
@ IN SOA localhost. hostmaster.example.org. 1 3600 600 86400 60
@ IN NS localhost.
www IN A 10.0.0.10
EOF
cat >"$work/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$nsd_port
    server-count: 1
    rrl-ratelimit: 0
    zonesdir: "$work"
    database: ""
    pidfile: "$work/nsd.pid"
    xfrdfile: "$work/xfrd.state"
    zonelistfile: "$work/zone.list"
    logfile: "$work/nsd.log"
    username: ""
    chroot: ""
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: example.org
    zonefile: example.org.zone
EOF
nsd -c "$work/nsd.conf"
for _ in $(seq 50); do dig @127.0.0.1 -p "$nsd_port" +short www.example.org | grep -q 10.0.0.10 && break; sleep 0.1; done
# NSD forks: the pid file names the first process; main and the server run below it.
descendants () {
    local pid
    echo "$1"
    for pid in $(ps -o pid= --ppid "$1"); do descendants "$pid"; done
}
nsd_pids=($(descendants "$(cat "$work/nsd.pid")"))

for port in "$dnsd_port" "$nsd_port"; do
    answer=$(dig @127.0.0.1 -p "$port" +short www.example.org A)
    [ "$answer" = 10.0.0.10 ] || { echo "dnsd.sh: no answer on port $port" >&2; exit 1; }
done
echo "www.example.org A" >"$work/queries"

# run NAME PORT OPTS PIDS...: one dnsperf run; prints "qps avg_ms cpu_us_per_query lost".
run () {
    local name=$1 port=$2 opts=$3; shift 3
    local before after output
    before=$(ticks "$@")
    output=$(dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l "$DURATION" $opts 2>&1)
    after=$(ticks "$@")
    echo "$output" >>"$work/dnsperf-$name.log"
    local qps avg completed lost
    qps=$(echo "$output" | awk '/Queries per second/ {print $4}')
    avg=$(echo "$output" | awk '/Average Latency/ {print $4 * 1000}')
    completed=$(echo "$output" | awk '/Queries completed/ {print $3}')
    lost=$(echo "$output" | awk '/Queries lost/ {print $3}')
    awk -v q="$qps" -v a="$avg" -v t=$((after - before)) -v n="$completed" -v l="$lost" \
        -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f %.3f %.2f %d\n", q, a, t * 1e6 / hz / n, l}'
}
median () { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "# dnsd vs NSD, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r)"
echo
echo "NSD $(nsd -v 2>&1 | head -1 | awk '{print $3}'), dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}'); dnsperf $DNSPERF_OPTS -l $DURATION, $ROUNDS rounds alternating."
echo
if part throughput; then
echo "| round | NSD qps | NSD avg ms | NSD CPU µs/q | dnsd qps | dnsd avg ms | dnsd CPU µs/q | dnsd/NSD qps |"
echo "|---|---|---|---|---|---|---|---|"
dnsperf -s 127.0.0.1 -p "$dnsd_port" -d "$work/queries" -l 1 >/dev/null 2>&1  # warm up
dnsperf -s 127.0.0.1 -p "$nsd_port" -d "$work/queries" -l 1 >/dev/null 2>&1
: >"$work/rounds"
for round in $(seq "$ROUNDS"); do
    read -r nq na nc _ < <(run nsd "$nsd_port" "$DNSPERF_OPTS" "${nsd_pids[@]}")
    read -r dq da dc _ < <(run dnsd "$dnsd_port" "$DNSPERF_OPTS" "$dnsd_pid")
    echo "$nq $na $nc $dq $da $dc" >>"$work/rounds"
    echo "| $round | $nq | $na | $nc | $dq | $da | $dc | $(awk -v d="$dq" -v n="$nq" 'BEGIN {printf "%.2f", d / n}') |"
done
col () { awk -v c="$1" '{print $c}' "$work/rounds" | median; }
nq=$(col 1); na=$(col 2); nc=$(col 3); dq=$(col 4); da=$(col 5); dc=$(col 6)
echo "| **median** | **$nq** | $na | $nc | **$dq** | $da | $dc | **$(awk -v d="$dq" -v n="$nq" 'BEGIN {printf "%.2f", d / n}')** |"
echo
echo "CPU per query, NSD/dnsd: $(awk -v d="$dc" -v n="$nc" 'BEGIN {printf "%.2f", n / d}')x (how much more work NSD's server process does per answer)."
echo
fi

# Latency at a fixed rate, every query's time from dnsperf -v.
latency () {
    dnsperf -s 127.0.0.1 -p "$1" -d "$work/queries" -l "$DURATION" -Q "$LATENCY_QPS" -v 2>/dev/null \
        | awk '/^> NOERROR/ {print $5 * 1000}' | sort -g \
        | awk '{v[NR] = $1; s += $1} END {printf "%d %.3f %.3f %.3f %.3f\n", NR, s / NR, v[int(NR * 0.5)], v[int(NR * 0.99)], v[NR]}'
}
if part latency; then
echo "Latency at $LATENCY_QPS qps (dnsperf -Q $LATENCY_QPS -v, $DURATION s):"
echo
echo "| server | answers | avg ms | p50 ms | p99 ms | max ms |"
echo "|---|---|---|---|---|---|"
read -r n a p50 p99 max < <(latency "$nsd_port"); echo "| NSD | $n | $a | $p50 | $p99 | $max |"
read -r n a p50 p99 max < <(latency "$dnsd_port"); echo "| dnsd | $n | $a | $p50 | $p99 | $max |"
echo
fi

# Two dnsd instances on one port, against one; dnsperf with several sockets so the kernel
# spreads them over both.
if part multi; then
echo "Two dnsd instances on one port (SO_REUSEPORT), dnsperf $MULTI_OPTS:"
echo
echo "| round | 1 instance qps | 2 instances qps | 2 instances CPU µs/q (both) |"
echo "|---|---|---|---|"
: >"$work/multi"
for round in $(seq "$ROUNDS"); do
    read -r one _ _ _ < <(run one "$dnsd_port" "$MULTI_OPTS" "$dnsd_pid")
    start_dnsd 2 "$dnsd_port"
    read -r two _ cpu _ < <(run two "$dnsd_port" "$MULTI_OPTS" "$dnsd_pid" "$(cat "$work/dnsd-2.pid")")
    stop_dnsd 2
    echo "$one $two" >>"$work/multi"
    echo "| $round | $one | $two | $cpu |"
done
echo "| **median** | **$(awk '{print $1}' "$work/multi" | median)** | **$(awk '{print $2}' "$work/multi" | median)** | |"
echo
fi

# Memory: RSS with SERVICES services defined (statestore takes at most 1000 ops per tx).
part memory || exit 0
rss () { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
before=$(rss "$dnsd_pid")
for chunk in $(seq 0 $(((SERVICES - 1) / 1000))); do
    awk -v c="$chunk" -v n="$SERVICES" 'BEGIN {
        printf "[";
        for (i = c * 1000; i < (c + 1) * 1000 && i < n; i++)
            printf "%s{\"name\":\"s%d\",\"dns\":[\"s%d.example.org\"],\"ip\":\"10.%d.%d.%d\",\"domain\":\"s%d\"}",
                   (i > c * 1000 ? "," : ""), i, i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, i;
        printf "]" }' >"$work/services.json"
    ctl service apply "$work/services.json" >/dev/null
done
for _ in $(seq 100); do
    [ "$(counter 1 services)" = $((SERVICES + 1)) ] && break
done
after=$(rss "$dnsd_pid")
names=$(counter 1 names)
echo "Memory: dnsd RSS $before MiB with 1 service, **$after MiB with $(counter 1 services) services** ($names names)."
