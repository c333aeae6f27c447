#!/usr/bin/env bash
# bench-e2e: start a 4-validator local testnet, load it with `quorumchain bench`
# at several rates, and write the results between the e2e markers of
# BENCHMARKS.md (machine, commit and method included). Loopback only; every
# node is stopped by PID through `quorumchain testnet stop` at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/quorumchain}
DURATION=${DURATION:-20s}
# Each entry is RATE or RATE:BATCH (0: open loop; BATCH: transactions per
# JSON-RPC batch, 1 when absent).
RATES=${RATES:-"250 1000 5000 0 0:32"}
DIR=$(mktemp -d /tmp/quorumchain-bench.XXXXXX)
OUT=$(mktemp /tmp/quorumchain-bench-table.XXXXXX)

cleanup() {
  "$BIN" testnet stop --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR" "$OUT"
}
trap cleanup EXIT

"$BIN" testnet start -n 4 --dir "$DIR" --detach >/dev/null
"$BIN" testnet status --dir "$DIR" >/dev/null

{
  echo "Measured $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB;"
  echo "4 validators on 127.0.0.1, \`quorumchain bench --duration $DURATION --accounts 1000 --conns 48\`, signed transfers."
  echo
  echo "| offered | finalized tx/s | p50 ms | p90 ms | p99 ms | max ms | txs/block | node CPU % (avg) | node RSS MB (max) | node CPU per tx (recoveries) | fraction of ceiling | fsyncs per height |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$OUT"

for spec in $RATES; do
  rate=${spec%%:*}; batch=1
  [[ $spec == *:* ]] && batch=${spec#*:}
  json=$("$BIN" bench --testnet "$DIR" --duration "$DURATION" --rate "$rate" --batch "$batch" --accounts 1000 --conns 48 --output json)
  python3 - "$rate" "$json" >> "$OUT" <<'PY'
import json, sys
rate, r = sys.argv[1], json.loads(sys.argv[2])
nodes = r.get("nodes") or []
cpu = sum(n["cpuPercent"] for n in nodes) / max(len(nodes), 1)
rss = max([n["rssMB"] for n in nodes] or [0])
offered = "open loop" if rate == "0" else rate + " tx/s"
if r.get("batch", 1) > 1:
    offered += f", batches of {r['batch']}"
l = r["latencyMs"]
f = r.get("fsyncs") or []
fs = sum(x["total"] for x in f) / max(len(f), 1)
print(f"| {offered} | {r['txPerSec']:.0f} | {l['p50']:.1f} | {l['p90']:.1f} | {l['p99']:.1f} | {l['max']:.1f} | {r['txsPerBlock']:.1f} | {cpu:.0f} | {rss:.0f} | "
      f"{r['nodeCpuPerTxRecoveries']:.1f} | {r['ceilingFraction']:.2f} (recovery {r['recoveryMicros']:.1f} µs) | {fs:.2f} |")
PY
done

python3 scripts/write-section.py bench-e2e "$OUT"
cat "$OUT"
