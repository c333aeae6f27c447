#!/usr/bin/env bash
# dashboard-bench BIN PAGES [MODE]: start a fresh 4-validator testnet with
# BIN, open PAGES dashboard pages in headless Chromium (scripts/dashpages; 0:
# none; MODE=emulate: websocket clients making the pages' subscriptions and
# calls instead of a browser), spread over the four nodes, run `quorumchain bench` open loop
# (RATE=R: at R tx/s) for 10 s, print one line (finalized tx/s, p50, p99, node CPU), then close the
# pages and stop the testnet. Alternate runs to compare on one machine:
#   for i in 1 2; do dashboard-bench.sh B 0; dashboard-bench.sh B 5; done
set -euo pipefail
BIN=$1; PAGES=$2; MODE=${3:-browser}; RATE=${RATE:-0}
[ "$PAGES" -gt 0 ] || MODE=none
DIR=$(mktemp -d /tmp/dash-bench.XXXXXX)
PAGES_PID=
cleanup() {
  if [ -n "$PAGES_PID" ]; then kill "$PAGES_PID" 2>/dev/null || true; wait "$PAGES_PID" 2>/dev/null || true; fi
  "$BIN" testnet stop --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
"$BIN" testnet start -n 4 --dir "$DIR" --detach --base-port 0 >/dev/null
if [ "$PAGES" -gt 0 ]; then
  go build -o "$DIR/dashpages" ./scripts/dashpages
  urls=$(for i in 0 1 2 3; do "$BIN" testnet dashboard --dir "$DIR" --node "node$i" --no-open; done | paste -sd,)
  flags=""; [ "$MODE" = emulate ] && flags=-emulate
  "$DIR/dashpages" $flags -url "$urls" -n "$PAGES" -duration 120s > "$DIR/pages.out" 2>&1 &
  PAGES_PID=$!
  for _ in $(seq 200); do grep -q '^live' "$DIR/pages.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^live' "$DIR/pages.out" || { cat "$DIR/pages.out"; exit 1; }
fi
json=$("$BIN" bench --testnet "$DIR" --duration 10s --rate "$RATE" --accounts 1000 --conns 48 --output json)
python3 -c "import json,sys; r=json.loads(sys.argv[1]); n=r.get('nodes') or []; print('pages', sys.argv[2], sys.argv[3], 'rate', sys.argv[4], 'tx/s %.0f'%r['txPerSec'], 'p50 %.1f'%r['latencyMs']['p50'], 'p99 %.1f'%r['latencyMs']['p99'], 'cpu %.0f'%(sum(x['cpuPercent'] for x in n)/max(len(n),1)))" "$json" "$PAGES" "$MODE" "$RATE"
if [ -n "$PAGES_PID" ]; then
  kill -INT "$PAGES_PID"; wait "$PAGES_PID" || true; PAGES_PID=
  sed 's/^/  /' "$DIR/pages.out"
fi
