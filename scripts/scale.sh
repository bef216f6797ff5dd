#!/usr/bin/env bash
# Scale measurements (issue 12) on teacher data from `anmin gen teacher`:
#   1. loading the 1,000,000-row CSV: time and peak memory (GNU time), plain and gzip;
#   2. ANMIN seconds per iteration against n = 10^4, 10^5, 10^6 rows (16 features, h = 64),
#      with the peak memory of each 10-iteration run;
#   3. ANMIN seconds per iteration against d = 100 ... 2000 features at n = 300 (h = 64);
#   4. on the 1M-row teacher, ANMIN's time to the training MSE Adam reaches in 10 epochs.
# Prints markdown tables; the data and run JSONs go to WORKDIR (default: a new temporary
# folder; never inside the repository unless asked).
#
# Usage: scripts/scale.sh [WORKDIR [ANMIN_BIN]]
#   ANMIN_BIN defaults to building target/release/anmin with cargo. Needs jq and GNU time
#   (/usr/bin/time; Debian: apt-get install time). Takes about 5 minutes on a 2-core machine.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${1:-$(mktemp -d -t anmin-scale.XXXXXX)}
mkdir -p "$work"
if [[ $# -ge 2 ]]; then
    anmin=$2
else
    (cd "$repo" && cargo build --release --quiet)
    anmin=${CARGO_TARGET_DIR:-$repo/target}/release/anmin
fi
(cd "$repo" && cargo build --release --quiet --example load_csv)
load_csv=${CARGO_TARGET_DIR:-$repo/target}/release/examples/load_csv
command -v jq > /dev/null || { echo "$0: needs jq to read the run JSON" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "$0: needs GNU time as /usr/bin/time" >&2; exit 2; }

hidden=64
iters=10
echo "work folder: $work" >&2

# GNU time's figures of the last command: "wall seconds|peak MB".
timed() { # log file, command...
    local log=$1
    shift
    /usr/bin/time -v "$@" 2> "$log" > /dev/null
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
                                          for (i = 1; i <= n; i++) s = s * 60 + t[i] }
                /Maximum resident set size/ { mb = $2 / 1024 }
                END { printf "%.2f|%.0f\n", s, mb }' "$log"
}
teacher() { # rows, features, file
    [[ -s $3 ]] || "$anmin" gen teacher --rows "$1" --features "$2" --hidden 16 --noise 0.1 \
        --seed 0 --out "$3"
}
# Seconds per iteration after the initial network, the solver, and the final training MSE.
per_iter() {
    jq -r '[(.history[-1].time_s - .history[0].time_s) / (.history | length - 1),
            .solver.a_solver, .final.train_mse, .split.n_train] | @tsv' "$1" |
        awk -F '\t' '{ printf "%d | %s | %.3f | %.4g", $4, $2, $1, $3 }'
}

# A table row for a run of $iters ANMIN iterations: label, data, run JSON to write.
anmin_row() {
    IFS='|' read -r wall peak < <(timed "$work/run.log" "$anmin" train --data "$2" \
        --hidden $hidden --iters $iters --tol 0 --quiet --out "$3")
    echo "| $1 | $(per_iter "$3") | $wall | $peak |"
}

echo "## Loading the 1,000,000-row file"
echo
big=$work/teacher-1000000x16.csv
teacher 1000000 16 "$big"
[[ -s $big.gz ]] || gzip -1 -c "$big" > "$big.gz"
echo "| file | size (MB) | wall (s) | peak memory (MB) | f64 data (MB) |"
echo "|---|---:|---:|---:|---:|"
for file in "$big" "$big.gz"; do
    IFS='|' read -r wall peak < <(timed "$work/load.log" "$load_csv" "$file")
    size=$(du -m "$file" | cut -f1)
    echo "| $(basename "$file") | $size | $wall | $peak | 136 |"
done
echo

echo "## ANMIN against n (16 features, h = $hidden, $iters iterations, both cores)"
echo
echo "| rows | training rows | A-step | s / iteration | final train MSE | wall (s) | peak memory (MB) |"
echo "|---:|---:|---|---:|---:|---:|---:|"
for rows in 10000 100000 1000000; do
    data=$work/teacher-${rows}x16.csv
    teacher "$rows" 16 "$data"
    anmin_row "$rows" "$data" "$work/anmin-n$rows.json"
done
echo

echo "## ANMIN against d (300 rows, h = $hidden, $iters iterations, both cores)"
echo
echo "| features | training rows | A-step | s / iteration | final train MSE | wall (s) | peak memory (MB) |"
echo "|---:|---:|---|---:|---:|---:|---:|"
for features in 100 250 500 1000 2000; do
    data=$work/teacher-300x$features.csv
    teacher 300 "$features" "$data"
    anmin_row "$features" "$data" "$work/anmin-d$features.json"
done
echo

echo "## ANMIN against Adam on the 1,000,000-row teacher (h = $hidden)"
echo
adam=$work/adam-10.json
"$anmin" train --data "$big" --hidden $hidden --optimizer adam --epochs 10 --quiet \
    --out "$adam" > /dev/null
target=$(jq '.final.train_mse' "$adam")
adam_time=$(jq '.final.time_s' "$adam")
long=$work/anmin-30.json
"$anmin" train --data "$big" --hidden $hidden --iters 30 --quiet --out "$long" > /dev/null
echo "| optimizer | reaches train MSE | at (s) | iteration | s / iteration | final train MSE |"
echo "|---|---:|---:|---:|---:|---:|"
printf '| adam, 10 epochs | %.5f | %.2f | 10 | %.2f | %.5f |\n' "$target" "$adam_time" \
    "$(jq '(.history[-1].time_s - .history[0].time_s) / 10' "$adam")" "$target"
jq -r --argjson target "$target" '
    (first(.history[] | select(.train_mse <= $target)) // null) as $hit
    | [($hit | if . then .train_mse else "not reached" end),
       ($hit | if . then .time_s else "-" end), ($hit | if . then .iter else "-" end),
       (.history[-1].time_s - .history[0].time_s) / (.history | length - 1),
       .final.train_mse, (.history | length - 1)] | @tsv' "$long" |
    awk -F '\t' '{ printf "| anmin (%d iterations) | %s | %s | %s | %.2f | %.5f |\n", $6,
                   ($1 == "not reached" ? $1 : sprintf("%.5f", $1)),
                   ($2 == "-" ? $2 : sprintf("%.2f", $2)), $3, $4, $5 }'
echo
echo "Times are training seconds from the run JSON (metrics excluded), on whatever else the" \
    "machine was running; compare figures from one run of this script."
