#!/usr/bin/env bash
# Fuzzes every Jazzer target of vqclip-fuzz in turn (Jazzer fuzzes one target per JVM), each for
# SECONDS (default 120), at -Xmx1g, and prints the inputs run per target and any finding.
# Usage: tools/fuzz-all.sh [SECONDS] [TARGET-FILTER]     e.g. tools/fuzz-all.sh 30 Readers
# Crashing inputs land in the target's Inputs folder (replayed by the normal build); the growing
# corpus in vqclip-fuzz/.cifuzz-corpus/ (not committed). Logs: vqclip-fuzz/target/fuzz-logs/.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-120}"
filter="${2:-}"
cd "$root"
targets=$(grep -o '"ai\.vqclip\.[A-Za-z.]*FuzzTest#[A-Za-z]*"' vqclip-fuzz/src/test/java/ai/vqclip/onnx/weights/FuzzSeeds.java | tr -d '"')
mods=vqclip-core,vqclip-onnx,vqclip-augment,vqclip-demo,vqclip-cli,vqclip-fuzz
mkdir -p vqclip-fuzz/target/fuzz-logs
# Build once; each target then runs only the test phase.
mvn -B -q ${MVN_OPTS:-} -pl "$mods" -DskipTests test-compile >/dev/null || { echo "fuzz-all: build failed" >&2; exit 1; }
status=0
for t in $targets; do
  [[ -n "$filter" && "$t" != *"$filter"* ]] && continue
  short="${t##*.}"
  log="vqclip-fuzz/target/fuzz-logs/${short//#/-}.log"
  mvn -B ${MVN_OPTS:-} -Pfuzz -pl "$mods" test -Dsurefire.failIfNoSpecifiedTests=false -Dtest="$short" -Dfuzz.seconds="$seconds" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*')
  cov=$(grep -o 'DONE *cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  if [[ $rc -eq 0 ]]; then
    printf '%-45s ok       %10s inputs  cov %s\n' "$short" "${runs:-?}" "${cov:-?}"
  else
    status=1
    finding=$(grep -m1 -E '== Java Exception:|OutOfMemoryError|Timeout|deadly signal' "$log")
    printf '%-45s FINDING  %10s inputs  %s (log: %s)\n' "$short" "${runs:-?}" "$finding" "$log"
  fi
done
exit $status
