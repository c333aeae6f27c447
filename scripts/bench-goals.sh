#!/usr/bin/env bash
# bench-goals: the performance goals' measurements, written between the
# bench-goals markers of BENCHMARKS.md (machine, commit and method
# included). Loopback only; every testnet is stopped by PID through
# `quorumchain testnet stop`.
#   1. 60 s at 1,000 tx/s on 4 validators: p50 per 10 s window, and the
#      last 20 s against the first 20 s (latency must not grow with the run).
#   2. Scale: 4, 7 and 10 validators, open loop (each transaction its own
#      request, then JSON-RPC batches of 32) and 1,000 tx/s for
#      $DURATION each: finalized tx/s, p50, node CPU per height, node CPU
#      per transaction in recoveries, fsyncs per height.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/quorumchain}
DURATION=${DURATION:-20s}
LONG=${LONG:-60s}
SIZES=${SIZES:-"4 7 10"}
OUT=$(mktemp /tmp/quorumchain-goals.XXXXXX)
DIR=""

cleanup() {
  if [ -n "$DIR" ]; then "$BIN" testnet stop --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; fi
  rm -f "$OUT"
}
trap cleanup EXIT

start() {
  DIR=$(mktemp -d /tmp/quorumchain-goals-tn.XXXXXX)
  "$BIN" testnet start -n "$1" --dir "$DIR" --detach --base-port 0 >/dev/null
}
stop() {
  "$BIN" testnet stop --dir "$DIR" >/dev/null
  rm -rf "$DIR"; DIR=""
}
bench() { "$BIN" bench --testnet "$DIR" --duration "$1" --rate "$2" --batch "${3:-1}" --accounts 1000 --conns 48 --output json; }

{
  echo "Measured $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB,"
  echo "with \`scripts/bench-goals.sh\` (\`quorumchain bench --accounts 1000 --conns 48\`, signed transfers, 127.0.0.1)."
  echo
} > "$OUT"

start 4
json=$(bench "$LONG" 1000)
python3 - "$json" "$LONG" >> "$OUT" <<'PY'
import json, sys
r, long = json.loads(sys.argv[1]), sys.argv[2]
w = r["latencyWindows"]
print(f"**{long} at 1,000 tx/s, 4 validators:** {r['txPerSec']:.0f} tx/s finalized, p50 {r['latencyMs']['p50']:.1f} ms, p99 {r['latencyMs']['p99']:.1f} ms.")
print()
print("| window | txs | p50 ms | p99 ms |")
print("|---|---|---|---|")
for x in w:
    print(f"| {x['fromSec']:.0f}–{x['toSec']:.0f} s | {x['count']} | {x['p50']:.1f} | {x['p99']:.1f} |")
if len(w) >= 4:
    import statistics
    first = statistics.mean(x["p50"] for x in w[:2])
    last = statistics.mean(x["p50"] for x in w[-2:])
    print()
    print(f"Last 20 s against the first 20 s (mean of the windows' p50): {last:.1f} / {first:.1f} ms = **{last/first:.2f}**.")
print()
PY
stop

{
  echo "| validators | offered | finalized tx/s | ceiling tx/s | fraction | p50 ms | p99 ms | node CPU per height ms | node CPU per tx (recoveries) | load generator CPU per tx (recoveries) | fsyncs per height per node |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >> "$OUT"
for n in $SIZES; do
  start "$n"
  for spec in 0 0:32 1000; do
    rate=${spec%%:*}; batch=1
    [[ $spec == *:* ]] && batch=${spec#*:}
    json=$(bench "$DURATION" "$rate" "$batch")
    python3 - "$n" "$rate" "$json" >> "$OUT" <<'PY'
import json, sys
n, rate, r = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
f = r.get("fsyncs") or []
fs = sum(x["total"] for x in f) / max(len(f), 1)
offered = "open loop" if rate == "0" else rate + " tx/s"
if r.get("batch", 1) > 1:
    offered += f", batches of {r['batch']}"
l = r["latencyMs"]
print(f"| {n} | {offered} | {r['txPerSec']:.0f} | {r['ceilingTxPerSec']:.0f} | {r['ceilingFraction']:.2f} | {l['p50']:.1f} | {l['p99']:.1f} | "
      f"{r['nodeCpuPerHeightMs']:.2f} | {r['nodeCpuPerTxRecoveries']:.1f} | {r['loadGenerator']['cpuPerTxRecoveries']:.1f} | {fs:.2f} |")
PY
  done
  stop
done

python3 scripts/write-section.py bench-goals "$OUT"
cat "$OUT"
