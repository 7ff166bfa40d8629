#!/usr/bin/env bash
# What a query costs from each idle tier, on real guests (the README's tier figures). Needs root,
# the guests (deploy/guest/build) and a build (JITSU_BIN, default build/release); no libvirtd
# running.
#
#   bench/tiers.sh [ROUNDS]     (default 10)
#
# Brings the suite up under its own name (jtier, 10.82.0.0/24), registers one QEMU service and
# one LXC service (mask ready without the hold_max_ms cap, ready probe:80), and for each round
# and each tier (paused, saved, off) parks the service there with `jitsuctl service prepare`
# (boot once, then suspend, save or destroy), then measures one fresh client (bench/e2e_fetch:
# resolve, then connect at once) from the DNS query to the first HTTP byte. Also: RSS of the
# guest's process and the save file's size in each tier. Prints Markdown tables; raw lines in
# /tmp/jtier/results.txt. LXC has no save in libvirt: preparing it "saved" falls down the
# ladder (shutdown, then destroy), which the table says.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suite_env.sh"
rounds=${1:-10}
name=jtier
bench_env "$name" 10.82.0 5394 9194

cleanup () {
    virsh -q -c lxc:///system destroy "$name-l" >/dev/null 2>&1 || true
    virsh -q -c lxc:///system undefine "$name-l" >/dev/null 2>&1 || true
    "$top/deploy/suite" down >/dev/null 2>&1 || true
}
bench_up tiers.sh cleanup

sed -e "s|@NAME@|$name-l|" -e "s|@ADDRESS@|$subnet.11/24|" -e "s|@SERVICE@|l|" \
    -e "s|@ROOTFS@|$guest/rootfs|" -e "s|@BRIDGE@|${name:0:10}0|" \
    -e "s|@MAC@|52:54:00:82:00:11|" -e "s|@IFACE@|l-$name-11|" \
    "$top/deploy/guest/lxc-domain.xml.in" > "$root/l.xml"
virsh -q -c lxc:///system define "$root/l.xml" >/dev/null
# The idle ladder starts an hour after the last use: only `prepare` moves them here.
cat > "$root/services.json" <<EOF
[{"name": "q", "dns": ["q.jitsu.test"], "ip": "$subnet.10", "mac": "52:54:00:82:00:10",
  "template": {"kernel": "$guest/vmlinux", "initrd": "$guest/initrd.cpio",
               "cmdline": "$(cat "$guest/cmdline") jitsu.ip=$subnet.10/24 jitsu.name=q",
               "memory_mib": 128, "bridge": "${name:0:10}0"},
  "ttl": 300, "mask": "ready", "ready": "probe:80", "ready_timeout_ms": 60000,
  "hold_max_ms": 60000, "idle_timeout_s": 3600},
 {"name": "l", "dns": ["l.jitsu.test"], "ip": "$subnet.11", "mac": "52:54:00:82:00:11",
  "domain": "$name-l", "ttl": 300, "mask": "ready", "ready": "probe:80",
  "hold_max_ms": 60000, "idle_timeout_s": 3600}]
EOF
"$ctl" service apply "$root/services.json" >/dev/null

# RSS in KiB of the process running SERVICE's guest (0 when none).
guest_rss () {
    local pid
    if [ "$1" = q ]; then
        pid=$(pgrep -f "qemu-system-x86_64 -name guest=$name-q" | head -1 || true)
    else
        pid=$(pgrep -f "libvirt_lxc --name $name-l" | head -1 || true)
        # The container's processes are libvirt_lxc's children: count them all.
        [ -n "$pid" ] && pid="$pid $(pgrep -P "$pid" | tr '\n' ' ')"
    fi
    [ -n "$pid" ] || { echo 0; return; }
    # shellcheck disable=SC2086
    ps -o rss= -p "$(echo $pid | tr ' ' ',')" | awk '{s += $1} END {print s + 0}'
}
save_bytes () {  # the service's save file, 0 when none
    stat -c %s "$root"/state/saves/"$1"-*.save 2>/dev/null | head -1 || echo 0
}

: > "$results"
for round in $(seq 1 "$rounds"); do
    for service in q l; do
        for tier in paused saved off; do
            parked=$("$ctl" service prepare "$service" "$tier" 2>&1 | tail -1 || true)
            got=$(echo "$parked" | sed -n 's/.*parked: \([a-z]*\).*/\1/p')
            [ -n "$got" ] || { echo "tiers.sh: $service $tier: $parked" >&2; continue; }
            sleep 0.5
            rss=$(guest_rss "$service") disk=$(save_bytes "$service")
            fresh_neighbours
            line=$("$fetch" "$JITSU_DNS_PORT" "$service.jitsu.test" "$name-client" 30000 || true)
            echo "fetch $service $tier $got rss_kib=$rss save_bytes=$disk $line" >> "$results"
            sleep 0.5
        done
    done
    echo "tiers.sh: round $round of $rounds" >&2
done
ready_rss_q=$(guest_rss q) ready_rss_l=$(guest_rss l)
sleep 2

python3 - "$results" "$root/tap.jsonl" "$rounds" "$ready_rss_q" "$ready_rss_l" <<'EOF'
import json, sys
results, tap, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
ready_rss = {"q": int(sys.argv[4]), "l": int(sys.argv[5])}
rows = []
for line in open(results):
    words = line.split()
    fields = dict(word.split("=", 1) for word in words[4:])
    fields.update(service=words[1], tier=words[2], got=words[3])
    rows.append(fields)

def quantile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    rank = max(1, -(-q * len(values) // 100))  # nearest rank
    return values[int(rank) - 1]

kinds = {"q": "QEMU microvm (TCG)", "l": "LXC"}
print(f"Rounds: {rounds}. DNS query -> first HTTP byte in ms (mask ready), p50 / p99.\n")
print("| guest | parked in | DNS answer p50 / p99 | first byte p50 / p99 | vs cold (p50) "
      "| guest RSS | save file | connected |")
print("|---|---|---|---|---|---|---|---|")
for kind in "ql":
    cold = [float(r["first_byte_ms"]) - float(r["query_ms"]) for r in rows
            if r["service"] == kind and r["tier"] == "off" and r["ok"] == "1"]
    for tier in ["paused", "saved", "off"]:
        sel = [r for r in rows if r["service"] == kind and r["tier"] == tier]
        ok = [r for r in sel if r["ok"] == "1"]
        answer = [float(r["answer_ms"]) - float(r["query_ms"]) for r in ok]
        first = [float(r["first_byte_ms"]) - float(r["query_ms"]) for r in ok]
        got = sorted(set(r["got"] for r in sel))
        where = tier if got == [tier] else f"{tier} (got: {', '.join(got)})"
        rss = max((int(r["rss_kib"]) for r in sel), default=0)
        disk = max((int(r["save_bytes"] or 0) for r in sel), default=0)
        ratio = quantile(first, 50) / quantile(cold, 50) if first and cold else float("nan")
        print(f"| {kinds[kind]} | {where} | {quantile(answer, 50):.0f} / {quantile(answer, 99):.0f} "
              f"| {quantile(first, 50):.0f} / {quantile(first, 99):.0f} | {ratio:.2f} "
              f"| {rss / 1024:.0f} MiB | {disk / 1e6:.0f} MB | {len(ok)}/{len(sel)} |")
    print(f"| {kinds[kind]} | (running) | | | | {ready_rss[kind] / 1024:.0f} MiB | | |")

events = [json.loads(line) for line in open(tap) if line.strip()]
alive = {}
for e in events:
    if e["type"] == "svc.alive" and e["body"]["name"] == "vmctl":
        alive[e["body"]["instance"]] = e["body"]["counters"]
print("\n| vmctl's own boot_ms by tier (p50 / p99 over its boots) | paused | saved | off |")
print("|---|---|---|---|")
for instance, counters in sorted(alive.items()):
    cells = [f"{counters.get(f'boot_ms_from_{t}_p50', 0)} / {counters.get(f'boot_ms_from_{t}_p99', 0)}"
             for t in ("paused", "saved", "off")]
    print(f"| vmctl/{instance} | " + " | ".join(cells) + " |")
    for call in ("resume", "restore", "save", "suspend"):
        p50 = counters.get(f"libvirt_{call}_us_p50", 0)
        if p50:
            print(f"| libvirt {call} call, vmctl/{instance} (p50 / p99 ms) | "
                  f"{p50 / 1000:.1f} / {counters.get(f'libvirt_{call}_us_p99', 0) / 1000:.1f} | | |")
EOF
