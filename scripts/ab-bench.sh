#!/usr/bin/env bash
# ab-bench BIN LABEL: start a fresh 4-validator testnet with BIN, run
# `quorumchain bench` open loop and then at 1,000 tx/s for 10 s each, print
# one line per run (finalized tx/s, p50, p99, node CPU), and stop the
# testnet by PID through `testnet stop`. Alternate two binaries to compare
# builds on one machine: for i in 1 2 3; do ab-bench A a; ab-bench B b; done
set -euo pipefail
BIN=$1; LABEL=$2
DIR=$(mktemp -d /tmp/ab-tn.XXXXXX)
trap '"$BIN" testnet stop --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
"$BIN" testnet start -n 4 --dir "$DIR" --detach --base-port 0 >/dev/null
for rate in 0 1000; do
  json=$("$BIN" bench --testnet "$DIR" --duration 10s --rate "$rate" --accounts 1000 --conns 48 --output json)
  python3 -c "import json,sys; r=json.loads(sys.argv[1]); n=r.get('nodes') or []; print(sys.argv[2], 'rate', sys.argv[3], 'tx/s %.0f'%r['txPerSec'], 'p50 %.1f'%r['latencyMs']['p50'], 'p99 %.1f'%r['latencyMs']['p99'], 'cpu %.0f'%(sum(x['cpuPercent'] for x in n)/max(len(n),1)))" "$json" "$LABEL" "$rate"
done
