#!/usr/bin/env bash
# Runs fuzz targets for a given number of seconds each and reports executions.
#
#   bash fuzz/run.sh 600                      # every target, 10 minutes each
#   JOBS=2 bash fuzz/run.sh 60 utf8 frame_header
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Each target
# grows its corpus in fuzz/corpus/TARGET (not committed) from the committed seeds in
# fuzz/seeds/TARGET. A crash leaves its input in fuzz/artifacts/TARGET and fails the run.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
jobs="${JOBS:-1}"

cargo +nightly fuzz build --release
mkdir -p corpus logs

run_one() {
    local target="$1" seconds="$2"
    mkdir -p "corpus/$target"
    local status=0
    cargo +nightly fuzz run --release "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 > "logs/$target.log" 2>&1 || status=$?
    local execs
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "logs/$target.log" | awk '{ print $2 }' | tail -1)
    echo "$target: ${execs:-?} executions in $seconds s, exit status $status"
    return "$status"
}
export -f run_one

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds"
