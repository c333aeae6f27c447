#!/usr/bin/env bash
# fuzz: run every native fuzz target of the module for FUZZTIME each and
# report its executions per second; fail when a target finds a crash or runs
# below FUZZ_MIN_RATE executions per second.
#
# The rate is the final `fuzz: elapsed: Ns, execs: N (N/sec)` line of
# `go test -fuzz`, taken as total execs divided by total elapsed seconds: it
# includes the baseline-coverage run of the seed corpus and of the inputs the
# fuzzer cached in $(go env GOCACHE)/fuzz. (The "(N/sec)" of that line covers
# only the last interval between reports, often a fraction of a second.)
# The fuzzer rounds elapsed to the second: at FUZZTIME=5s a rate is good to
# about 10%.
#
#   FUZZTIME       time per target (default 20s)
#   FUZZMINIMIZETIME  budget for minimizing each new interesting input
#                  (default 1000x: 1,000 executions)
#   FUZZ_MIN_RATE  minimum executions per second (default 1000)
#   FUZZ_TARGETS   extended regexp restricting which targets run (default all)
#   GO             the go command (default go)
#   arguments      package patterns (default ./...)
#
# Minimizing: the fuzzer shrinks every input that finds new coverage before
# it keeps it, for up to 60 s by default, and does not count those
# executions. Its last pass tries every pair of cut points, a number of
# executions quadratic in the input's length: a 300-byte input costs 45,000
# executions, seconds per worker, and a freshly changed target finds dozens
# of such inputs in its cached corpus at once. 1,000 executions complete the
# linear passes (cut the tail, drop single bytes) for inputs up to ~1 KB.
#
# Other jobs on the machine slow every target alike; the script prints the
# load average before and after so a slow run can be judged.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-1000x}
FUZZ_MIN_RATE=${FUZZ_MIN_RATE:-1000}
FUZZ_TARGETS=${FUZZ_TARGETS:-.}
[ $# -gt 0 ] || set -- ./...

LOG=$(mktemp /tmp/quorumchain-fuzz.XXXXXX)
trap 'rm -f "$LOG"' EXIT

# seconds parses a Go duration as printed by the fuzzer (5s, 1m2s, 1h0m3s).
seconds() {
  awk -v d="$1" 'BEGIN {
    s = 0
    while (match(d, /^[0-9.]+(h|ms|m|s)/)) {
      tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
      n = tok + 0
      if (tok ~ /ms$/) s += n / 1000
      else if (tok ~ /h$/) s += n * 3600
      else if (tok ~ /m$/) s += n * 60
      else s += n
    }
    print s
  }'
}

# deadline_race reports whether a failed run's only complaint is the
# fuzzer's own deadline: "context deadline exceeded" as the failure, no
# input written to testdata, no panic and no test error.
deadline_race() {
  grep -q '^    context deadline exceeded$' "$1" &&
    ! grep -q 'Failing input written to' "$1" &&
    [ "$(grep -c -E '^ +[a-z_0-9]+\.go:[0-9]+:|^panic:' "$1")" -eq 0 ]
}

# Fuzz targets per package, found in the package's test files without
# compiling them: "<import path> <target>" per line.
targets=$(
  $GO list -f '{{$d := .Dir}}{{$p := .ImportPath}}{{range .TestGoFiles}}{{$p}} {{$d}}/{{.}}
{{end}}{{range .XTestGoFiles}}{{$p}} {{$d}}/{{.}}
{{end}}' "$@" |
    while read -r pkg file; do
      [ -n "$pkg" ] || continue
      sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' "$file" |
        while read -r fn; do echo "$pkg $fn"; done
    done | grep -E " ($FUZZ_TARGETS)" | sort -u
)
if [ -z "$targets" ]; then
  echo "fuzz: no fuzz targets match $FUZZ_TARGETS in $*" >&2
  exit 1
fi

echo "fuzz: FUZZTIME=$FUZZTIME, FUZZMINIMIZETIME=$FUZZMINIMIZETIME, minimum $FUZZ_MIN_RATE execs/s, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
failed=0
while read -r pkg fn; do
  echo "== $pkg $fn"
  $GO test -run '^$' -fuzz "^$fn\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" >"$LOG" 2>&1
  rc=$?
  final=$(grep -E '^fuzz: elapsed: [0-9hms.]+, execs: [0-9]+ ' "$LOG" | tail -n 1)
  execs=$(sed -E 's/.*execs: ([0-9]+) .*/\1/' <<<"$final")
  elapsed=$(sed -E 's/^fuzz: elapsed: ([0-9hms.]+),.*/\1/' <<<"$final")
  status=ok
  rate=0
  if [ -n "$final" ]; then
    secs=$(seconds "$elapsed")
    rate=$(awk -v n="$execs" -v s="$secs" 'BEGIN { if (s > 0) printf "%d", n / s; else print 0 }')
  fi
  if [ $rc -ne 0 ] && deadline_race "$LOG"; then
    # Go 1.26's coordinator can report its own -fuzztime deadline as a
    # failure (go.dev/issue/75804, fixed in Go 1.27): nothing was found.
    status="ok (fuzztime deadline race, go.dev/issue/75804)"
    [ "$rate" -ge "$FUZZ_MIN_RATE" ] || status="SLOW (< $FUZZ_MIN_RATE/s)"
  elif [ $rc -ne 0 ]; then
    status=FAIL
    cat "$LOG"
  elif [ -z "$final" ]; then
    status="FAIL (no stats line)"
    cat "$LOG"
  elif [ "$rate" -lt "$FUZZ_MIN_RATE" ]; then
    status="SLOW (< $FUZZ_MIN_RATE/s)"
  fi
  case "$status" in ok*) ;; *) failed=1 ;; esac
  printf '%s %s: %s execs in %s = %s execs/s  %s\n' "$pkg" "$fn" "${execs:-0}" "${elapsed:-?}" "$rate" "$status"
  rows+=("$(printf '| %s | %s | %s | %s | %s |' "${pkg#github.com/quorumchain/quorumchain/}" "$fn" "${execs:-0}" "$rate" "$status")")
done <<<"$targets"

echo
echo "fuzz: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| package | target | execs | execs/s | status |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $failed
