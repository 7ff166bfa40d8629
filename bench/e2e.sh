#!/usr/bin/env bash
# The whole suite on real guests, measured (the README's "Figures"). Needs root, the guests
# (deploy/guest/build) and a build (JITSU_BIN, default build/release); no libvirtd running.
#
#   bench/e2e.sh [ROUNDS]     (default 5 rounds of everything)
#
# 1. Guest launch -> HTTP, per kind: `virsh create` of the same domain jitsu would create
#    (renamed, so jitsu leaves it alone), then the first HTTP answer seen from the bridge.
# 2. DNS query -> first HTTP byte, per kind and mask (none, delay, ready, synjitsu, auto; delay
#    and ready without the hold_max_ms cap, auto with the default 1200 ms): one fresh
#    client (bench/e2e_fetch: neighbour cache flushed, the guest off) resolves the name and
#    connects at once; its SYN retransmits come from TCP_INFO.
# 3. Suite overhead: vm.boot received -> libvirt create called (vmctl's own dispatch figures),
#    the libvirt create/start/destroy calls themselves (p50/p99, calls over 1 s),
#    and, with mask=ready, guest answers -> vm.ready -> DNS answer received.
# Prints Markdown tables; raw lines are kept in /tmp/jbench/results.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suite_env.sh"
rounds=${1:-5}
name=jbench
bench_env "$name" 10.79.0 5398 9198
watch="$bin/tests/e2e/e2e_tcp"
masks="none delay ready synjitsu auto"

[ -x "$watch" ] || { echo "e2e.sh: build first ($bin)" >&2; exit 1; }

cleanup () {
    for mask in $masks; do
        virsh -q -c lxc:///system undefine "$name-l-$mask" >/dev/null 2>&1 || true
    done
    "$top/deploy/suite" down >/dev/null 2>&1 || true
}
bench_up e2e.sh cleanup

now_ms () { date +%s%3N; }
state_of () {  # no status yet: never booted, so off
    local state
    state=$("$ctl" state get "/services/$1/status" 2>/dev/null | jq -r .state) || true
    case "$state" in ""|null) echo off ;; *) echo "$state" ;; esac
}
wait_state () {  # wait_state SERVICE STATE
    for _ in $(seq 1 300); do
        [ "$(state_of "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    echo "e2e.sh: $1 did not reach $2" >&2
    return 1
}

# --- 1. guest launch -> HTTP -----------------------------------------------------------------
# QEMU: the domain vmctl creates for a template service, dumped once, renamed; LXC: the
# defined domain of the LXC services, under another name. Neither name has the suite's prefix,
# so vmctl leaves them alone.
cmdline=$(cat "$guest/cmdline")
service_json () {  # service_json KIND MASK HOST DELAY_MS (for mask=delay only)
    local kind=$1 mask=$2 host=$3 delay=$4 mac hold=
    # vmctl also waits response_delay_ms after readiness: only the delay mask gets one.
    [ "$mask" = delay ] || delay=0
    # delay and ready are measured as they are, without dnsd's hold_max_ms cap (1200 ms).
    case $mask in delay|ready) hold=', "hold_max_ms": 60000' ;; esac
    mac=$(printf '52:54:00:79:00:%02x' "$host")
    if [ "$kind" = q ]; then
        cat <<EOF
{"name": "q-$mask", "dns": ["q-$mask.jitsu.test"], "ip": "$subnet.$host", "mac": "$mac",
 "template": {"kernel": "$guest/vmlinux", "initrd": "$guest/initrd.cpio",
              "cmdline": "$cmdline jitsu.ip=$subnet.$host/24 jitsu.name=q-$mask",
              "memory_mib": 128, "bridge": "${name:0:10}0"},
 "ttl": 300, "mask": "$mask", "response_delay_ms": $delay, "ready": "probe:80",
 "ready_timeout_ms": 60000$hold}
EOF
    else
        sed -e "s|@NAME@|$name-l-$mask|" -e "s|@ADDRESS@|$subnet.$host/24|" \
            -e "s|@SERVICE@|l-$mask|" -e "s|@ROOTFS@|$guest/rootfs|" \
            -e "s|@BRIDGE@|${name:0:10}0|" -e "s|@MAC@|$mac|" -e "s|@IFACE@|l-$name-$host|" \
            "$top/deploy/guest/lxc-domain.xml.in" > "$root/l-$mask.xml"
        # Defined afresh each time: a domain left from an older run keeps its old XML, and
        # defining a known name again without its UUID is refused ("already exists").
        virsh -q -c lxc:///system destroy "$name-l-$mask" >/dev/null 2>&1 || true
        virsh -q -c lxc:///system undefine "$name-l-$mask" >/dev/null 2>&1 || true
        virsh -q -c lxc:///system define "$root/l-$mask.xml" >/dev/null
        cat <<EOF
{"name": "l-$mask", "dns": ["l-$mask.jitsu.test"], "ip": "$subnet.$host", "mac": "$mac",
 "domain": "$name-l-$mask", "ttl": 300, "mask": "$mask", "response_delay_ms": $delay,
 "ready": "probe:80", "ready_timeout_ms": 60000$hold}
EOF
    fi
}

launch () {  # launch URI XML IP: ms from `virsh create` to the first HTTP answer
    local uri=$1 xml=$2 ip=$3 start end
    fresh_neighbours
    start=$(now_ms)
    virsh -q -c "$uri" create "$xml" >/dev/null
    ip netns exec "$name-net" "$watch" first "$ip" 80 60000 > "$root/first.txt"
    end=$(cut -d= -f2 "$root/first.txt")
    virsh -q -c "$uri" destroy "$(sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$xml" | head -1)" \
        >/dev/null
    echo $((end - start))
}

register () {  # register DELAY_Q DELAY_L: every kind and mask, QEMU from .20, LXC from .30
    local kind mask host delay
    {
        echo "["
        for kind in q l; do
            host=20 delay=$1
            [ "$kind" = l ] && host=30 delay=$2
            for mask in $masks; do
                [ "$host" -gt 20 ] && echo ","
                service_json "$kind" "$mask" "$host" "$delay"
                host=$((host + 1))
            done
        done
        echo "]"
    } > "$root/services.json"
    "$ctl" service apply "$root/services.json" >/dev/null
}

# A first registration (no delay yet) boots q-ready once to dump the domain XML.
register 0 0
dig +short +time=60 +tries=1 @127.0.0.1 -p "$port" q-ready.jitsu.test >/dev/null
virsh -c qemu:///system dumpxml --inactive "$name-q-ready" \
    | sed -e "s|<name>$name-q-ready</name>|<name>jraw-q</name>|" -e '/<uuid>/d' \
          -e "s|$subnet.22/24|$subnet.40/24|" -e 's|52:54:00:79:00:16|52:54:00:79:00:28|' \
          -e '/<target dev=/d' -e '/<alias /d' > "$root/raw-q.xml"
virsh -q -c qemu:///system destroy "$name-q-ready" >/dev/null
wait_state q-ready off || true
sed -e "s|@NAME@|jraw-l|" -e "s|@ADDRESS@|$subnet.41/24|" -e "s|@SERVICE@|raw|" \
    -e "s|@ROOTFS@|$guest/rootfs|" -e "s|@BRIDGE@|${name:0:10}0|" \
    -e "s|@MAC@|52:54:00:79:00:29|" -e "s|@IFACE@|l-jraw|" \
    "$top/deploy/guest/lxc-domain.xml.in" > "$root/raw-l.xml"

: > "$results"
for round in $(seq 1 "$rounds"); do
    echo "launch q $(launch qemu:///system "$root/raw-q.xml" "$subnet.40")" >> "$results"
    sleep 0.5
    echo "launch l $(launch lxc:///system "$root/raw-l.xml" "$subnet.41")" >> "$results"
    sleep 0.5
done

# The delay mask waits as long as the median launch of its kind, rounded up to 100 ms.
median () { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
delay_q=$(awk '$1 == "launch" && $2 == "q" {print $3}' "$results" | median)
delay_l=$(awk '$1 == "launch" && $2 == "l" {print $3}' "$results" | median)
delay_q=$(( (delay_q + 99) / 100 * 100 ))
delay_l=$(( (delay_l + 99) / 100 * 100 ))
register "$delay_q" "$delay_l"
echo "delay q $delay_q" >> "$results"
echo "delay l $delay_l" >> "$results"

# --- 2. DNS query -> first HTTP byte, per kind and mask ---------------------------------------
for round in $(seq 1 "$rounds"); do
    for kind in q l; do
        for mask in $masks; do
            service=$kind-$mask
            [ "$(state_of "$service")" = off ] || {
                virsh -q -c "$([ $kind = q ] && echo qemu || echo lxc):///system" destroy \
                    "$name-$service" >/dev/null 2>&1 || true
                wait_state "$service" off || true
            }
            fresh_neighbours
            ip=$(jq -r ".[] | select(.name == \"$service\") | .ip" "$root/services.json")
            # With mask=ready the bridge's side watches for the guest answering, to split the
            # wait into boot, probe and answer (synjitsu would hold the watcher's SYNs).
            : > "$root/first.txt"
            watcher=
            if [ "$mask" = ready ]; then
                ip netns exec "$name-net" "$watch" first "$ip" 80 60000 > "$root/first.txt" &
                watcher=$!
            fi
            line=$("$fetch" "$port" "$service.jitsu.test" "$name-client" 30000 || true)
            [ -z "$watcher" ] || wait "$watcher" || true
            echo "fetch $service $line guest_ms=$(cut -d= -f2 "$root/first.txt")" >> "$results"
            # One boot at a time: two TCG guests booting at once share two cores.
            wait_state "$service" ready || true
        done
    done
done
sleep 2  # the last events and heartbeats reach the tap

# --- 3. Report ---------------------------------------------------------------------------------
python3 - "$results" "$root/tap.jsonl" "$rounds" <<'EOF'
import json, statistics, sys
results, tap, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
launch = {"q": [], "l": []}
delay = {}
fetches = []
for line in open(results):
    words = line.split()
    if words[0] == "launch":
        launch[words[1]].append(int(words[2]))
    elif words[0] == "delay":
        delay[words[1]] = int(words[2])
    elif words[0] == "fetch":
        fields = dict(word.split("=", 1) for word in words[2:])
        fields["service"] = words[1]
        fetches.append(fields)
events = [json.loads(line) for line in open(tap) if line.strip()]

def mid(values):
    return statistics.median(values) if values else float("nan")

def spread(values):
    return f"{min(values):.0f}–{max(values):.0f}" if values else "-"

kinds = {"q": "QEMU microvm (TCG)", "l": "LXC"}
print(f"Rounds: {rounds}. Times in ms; median (min–max).\n")
print("| guest | launch → HTTP answer |")
print("|---|---|")
for kind in "ql":
    print(f"| {kinds[kind]} | {mid(launch[kind]):.0f} ({spread(launch[kind])}) |")

print("\n| guest | mask | DNS answer | first HTTP byte | SYN retransmits (each round) | connected |")
print("|---|---|---|---|---|---|")
overhead = []
for kind in "ql":
    for mask in ["none", "delay", "ready", "synjitsu", "auto"]:
        rows = [f for f in fetches if f["service"] == f"{kind}-{mask}"]
        answer = [float(f["answer_ms"]) - float(f["query_ms"]) for f in rows if f["ok"] == "1"]
        first = [float(f["first_byte_ms"]) - float(f["query_ms"]) for f in rows if f["ok"] == "1"]
        retrans = ",".join(f["retransmits"] for f in rows)
        ok = sum(f["ok"] == "1" for f in rows)
        errors = sorted(set(f.get("error", "?") for f in rows if f["ok"] != "1"))
        label = mask + (f" ({delay[kind]} ms)" if mask == "delay" else "")
        print(f"| {kinds[kind]} | {label} | {mid(answer):.0f} ({spread(answer)}) | "
              f"{mid(first):.0f} ({spread(first)}) | {retrans} | {ok}/{len(rows)}"
              + (f" (failed: {', '.join(errors)})" if errors else "") + " |")
        if mask == "ready":
            for f in rows:
                ready = [e["ts"] for e in events if e["type"] == "vm.ready"
                         and e["body"]["service"] == f["service"]
                         and float(f["query_ms"]) <= e["ts"] <= float(f["answer_ms"]) + 1]
                guest = float(f.get("guest_ms") or 0)
                if ready and guest:
                    overhead.append((kind, guest, ready[0], float(f["answer_ms"])))

print("\n| suite overhead | median (min–max) |")
print("|---|---|")
alive = {}
for e in events:
    if e["type"] == "svc.alive" and e["body"]["name"] == "vmctl":
        alive[e["body"]["instance"]] = e["body"]["counters"]
for instance, counters in sorted(alive.items()):
    print(f"| vm.boot received → libvirt create called, vmctl/{instance} (p50 / p99 over its "
          f"boots) | {counters.get('dispatch_us_p50', 0) / 1000:.1f} / "
          f"{counters.get('dispatch_us_p99', 0) / 1000:.1f} ms |")
# The libvirt calls themselves, timed by vmctl in its workers (svc.alive "histograms" and the
# libvirt_CALL_us_p50/p99 counters over its last 1024 calls of each kind).
for instance, counters in sorted(alive.items()):
    for call, function in (("create", "virDomainCreateXML"), ("start", "virDomainCreate"),
                           ("destroy", "virDomainDestroy")):
        p50 = counters.get(f"libvirt_{call}_us_p50", 0)
        if p50:
            print(f"| libvirt {call} call ({function}), vmctl/{instance} (p50 / p99) | "
                  f"{p50 / 1000:.1f} / {counters.get(f'libvirt_{call}_us_p99', 0) / 1000:.1f} ms |")
    slow = counters.get("libvirt_slow_calls", 0)
    print(f"| libvirt calls over 1 s, vmctl/{instance} | {slow} |")
for kind in "ql":
    rows = [o for o in overhead if o[0] == kind]
    detect = [r - g for _, g, r, _ in rows]
    answer = [a - r for _, _, r, a in rows]
    total = [a - g for _, g, _, a in rows]
    print(f"| {kinds[kind]}, mask=ready: guest answers → vm.ready (probe) | "
          f"{mid(detect):.0f} ({spread(detect)}) |")
    print(f"| {kinds[kind]}, mask=ready: vm.ready → DNS answer received | "
          f"{mid(answer):.0f} ({spread(answer)}) |")
    print(f"| {kinds[kind]}, mask=ready: guest answers → DNS answer received | "
          f"{mid(total):.0f} ({spread(total)}) |")
print("\n(guest answers: a watcher on the bridge's side connecting every 10 ms; a clock "
      "difference below its 10 ms cadence is noise.)")
EOF
