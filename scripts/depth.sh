#!/usr/bin/env bash
# Depth per second: ANMIN against LBFGS at equal wall time, one thread each.
#
#   scripts/depth.sh [-r REPEATS] [-b "LABEL=BIN [FLAGS]"]... [-a "FLAGS"] [-c CAP] [-P] [-k DIR] [CSV...]
#
# For each CSV (default: every *.csv in ../shared/data relative to the repository root, plus a
# generated planted-network set of 10,000 training rows × 32 features) it runs LBFGS (100
# outer iterations) and ANMIN (100 iterations) with h = 64, seed 0, --threads 1, and prints
# LBFGS's final training MSE and time, the time ANMIN needs to reach that MSE and the ratio
# (ANMIN's time / LBFGS's: below 1, ANMIN gets there first), both optimizers' training MSE at
# the shorter run's time, and ANMIN's MSE and time at iterations 30 and 100.
#
#   -r REPEATS   runs of each program, interleaved; times are medians (default 3)
#   -b "LABEL=BIN [FLAGS]"  an anmin binary to run ANMIN with, and flags for it alone
#                (repeatable, e.g. to compare two builds in one run); LBFGS runs with the first.
#                Default: this checkout's release build.
#   -a FLAGS     extra flags for every ANMIN run (e.g. "--variant plain")
#   -c CAP       stop ANMIN after CAP × LBFGS's time (for sets where 100 iterations take long)
#   -P           leave out the generated set
#   -k DIR       keep the run JSONs in DIR
#
# Needs cargo and python3 (standard library only).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
repeats=3
bins=()
anmin_flags=""
cap=0
planted=1
keep=""
while getopts "r:b:a:c:Pk:h" opt; do
    case $opt in
        r) repeats=$OPTARG ;;
        b) bins+=("$OPTARG") ;;
        a) anmin_flags=$OPTARG ;;
        c) cap=$OPTARG ;;
        P) planted=0 ;;
        k) keep=$OPTARG ;;
        *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

if [[ ${#bins[@]} -eq 0 ]]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    bins=("anmin=$root/target/release/anmin")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${keep:-$work/runs}
mkdir -p "$out"

csvs=("$@")
if [[ ${#csvs[@]} -eq 0 ]]; then
    csvs=("$root"/../shared/data/*.csv)
fi
if [[ $planted -eq 1 ]]; then
    # A planted network: 12,500 rows (10,000 for training after the 20% test split) of 32
    # standard normal features, a 16-unit ReLU teacher, and noise of 10% of the signal's sd.
    python3 - "$work/planted.csv" <<'EOF'
import math, random, sys
rng = random.Random(0)
n, d, h = 12500, 32, 16
a = [[rng.gauss(0, 1 / math.sqrt(d + 1)) for _ in range(d + 1)] for _ in range(h)]
b = [rng.gauss(0, 1) for _ in range(h)]
xs = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(n)]
clean = [sum(bj * max(0.0, sum(w * v for w, v in zip(aj, x)) + aj[d]) for aj, bj in zip(a, b))
         for x in xs]
mean = sum(clean) / n
sd = math.sqrt(sum((c - mean) ** 2 for c in clean) / n)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"x{j + 1}" for j in range(d)) + ",y\n")
    for x, c in zip(xs, clean):
        f.write(",".join(f"{v:.6f}" for v in x) + f",{c + rng.gauss(0, 0.1 * sd):.6f}\n")
EOF
    csvs+=("$work/planted.csv")
fi

common=(--hidden 64 --seed 0 --threads 1 --iters 100 --quiet)
first_bin=${bins[0]#*=}
first_bin=${first_bin%% *}
for csv in "${csvs[@]}"; do
    name=$(basename "$csv" .csv)
    for ((r = 0; r < repeats; r++)); do
        lbfgs="$out/$name.lbfgs.$r.json"
        "$first_bin" train --data "$csv" "${common[@]}" --optimizer lbfgs --out "$lbfgs" >/dev/null
        limit=()
        if [[ $cap != 0 ]]; then
            seconds=$(python3 -c "import json,sys; print(max(1.0, $cap * json.load(open(sys.argv[1]))['final']['time_s']))" "$lbfgs")
            limit=(--max-seconds "$seconds")
        fi
        for spec in "${bins[@]}"; do
            # The binary, then its own flags (word-split on purpose).
            read -r -a command <<<"${spec#*=}"
            # shellcheck disable=SC2086
            "${command[0]}" train --data "$csv" "${common[@]}" --optimizer anmin $anmin_flags \
                "${command[@]:1}" "${limit[@]}" --out "$out/$name.anmin-${spec%%=*}.$r.json" >/dev/null
        done
        echo "$name: repeat $((r + 1)) of $repeats done" >&2
    done
done

labels=()
for spec in "${bins[@]}"; do labels+=("${spec%%=*}"); done
python3 - "$out" "$repeats" "${labels[@]}" -- "${csvs[@]}" <<'EOF'
import json, os, statistics, sys

out, repeats = sys.argv[1], int(sys.argv[2])
sep = sys.argv.index("--")
labels, csvs = sys.argv[3:sep], sys.argv[sep + 1:]

def load(name, who):
    """History of one program: MSE per entry and the median time of each entry over repeats."""
    runs = [json.load(open(os.path.join(out, f"{name}.{who}.{r}.json"))) for r in range(repeats)]
    length = min(len(run["history"]) for run in runs)
    hist = [(statistics.median(run["history"][i]["time_s"] for run in runs),
             runs[0]["history"][i]["train_mse"], runs[0]["history"][i]["iter"]) for i in range(length)]
    return runs[0], hist

def at_time(hist, t):
    """Training MSE of the last entry recorded by time t."""
    return [mse for time, mse, _ in hist if time <= t][-1]

def at_iter(hist, k):
    hit = [e for e in hist if e[2] == k]
    return f"{hit[0][1]:.5g}, {hit[0][0]:.2f} s" if hit else "–"

for label in labels:
    print(f"\nANMIN: {label}; medians of {repeats} run(s); ratio = ANMIN's time / LBFGS's\n")
    print("| set (train rows × features) | h(d+1) | LBFGS: final train MSE, time | ANMIN: time to reach it | ratio "
          "| at the shorter run's time: LBFGS, ANMIN | ANMIN 30 iterations | ANMIN 100 iterations | ANMIN stop |")
    print("|---|---:|---|---|---:|---|---|---|---|")
    for csv in csvs:
        name = os.path.basename(csv)[:-4]
        lb_run, lb = load(name, "lbfgs")
        an_run, an = load(name, f"anmin-{label}")
        n, d = lb_run["split"]["n_train"], len(lb_run["dataset"]["features"])
        target, t_lb = lb[-1][1], lb[-1][0]
        hit = next((e for e in an if e[1] <= target), None)
        reach = f"{hit[0]:.2f} s (iteration {hit[2]})" if hit else f"never ({an[-1][1]:.5g} at {an[-1][0]:.2f} s)"
        ratio = f"{hit[0] / t_lb:.2f}" if hit else "–"
        t = min(t_lb, an[-1][0])
        print(f"| {name} ({n} × {d}) | {64 * (d + 1)} | {target:.5g} in {t_lb:.2f} s | {reach} | {ratio} "
              f"| {at_time(lb, t):.5g}, {at_time(an, t):.5g} at {t:.2f} s | {at_iter(an, 30)} | {at_iter(an, 100)} "
              f"| {an_run['stop_reason']} |")
EOF
