#!/usr/bin/env bash
# The long fuzz run: the property tests of test/fuzz/ with a random seed and many more cases
# than CI runs. The seed is printed first; rerun a failure with the same seed:
#   bash bench/fuzz/run.sh                  # random seed, 50x the CI cases
#   bash bench/fuzz/run.sh --seed 1234      # a given seed
#   bash bench/fuzz/run.sh --scale 500      # 500x the CI cases (about 10 min per file)
#   bash bench/fuzz/run.sh test/fuzz/url-path.test.ts   # one file
# Exits non-zero when a property fails; fast-check prints the counterexample and its path.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seed="$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
scale=50
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
if [ "${#files[@]}" -eq 0 ]; then files=(test/fuzz/*.test.ts); fi

echo "fuzz: FUZZ_SEED=$seed FUZZ_SCALE=$scale (${#files[@]} files)"
started=$(date +%s)
status=0
FUZZ_SEED="$seed" FUZZ_SCALE="$scale" npx tap --timeout=3600 --jobs=1 --reporter=terse "${files[@]}" || status=$?
echo "fuzz: seed $seed, scale $scale, $(( $(date +%s) - started )) s, $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit "$status"
