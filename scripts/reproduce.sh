#!/usr/bin/env bash
# Reproduces the paper's comparison on the five UCI regression datasets and writes
# docs/RESULTS.md with one table and one figure per dataset, early stopping, and a summary.
#
#   scripts/reproduce.sh DATA_DIR [SPLITS [VAL_SPLITS]]
#
# DATA_DIR holds abalone.csv, airfoil.csv, concrete.csv, wine.csv and energy.csv: the UCI
# Machine Learning Repository datasets Abalone, Airfoil Self-Noise, Concrete Compressive
# Strength, Wine Quality (red) and Energy Efficiency (heating load), each a CSV with a header
# row and the target in the last column. The results record DATA_DIR relative to the
# repository (e.g. ../shared/data for a folder beside the clone), never an absolute path, so
# that they read the same in every clone. SPLITS random splits per dataset (default 100) for the main comparison, and
# VAL_SPLITS (default 30) for the comparison with early stopping (--val-frac 0.2) and for
# ANMIN against LBFGS with 100 iterations each. Every
# optimizer gets h = 64 hidden units and its default budget: ANMIN 30 iterations, Adam and SGD
# 300 epochs, LBFGS 100 outer iterations. An interrupted reproduction resumes where it stopped
# when run again with the same arguments. Needs cargo, python3 (standard library only) and,
# for the image experiments (scripts/paper_images.sh), jq.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
splits=${2:-100}
val_splits=${3:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
# Everything runs from the repository root with paths relative to it: the run and aggregate
# JSONs record the data, --out and --plot paths as given.
data_dir=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$1" "$root")
cd "$root"
docs=docs
results="$docs/results"
mkdir -p "$results"

cargo build --release --quiet
anmin="${CARGO_TARGET_DIR:-$root/target}/release/anmin"
optimizers=anmin,anmin-plain,adam,sgd,lbfgs
datasets=(abalone airfoil concrete wine energy)

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
seconds_at_start=$SECONDS
for name in "${datasets[@]}"; do
    file="$data_dir/$name.csv"
    [[ -f $file ]] || { echo "error: $file not found" >&2; exit 2; }
    for variant in main val long; do
        opts=$optimizers
        case $variant in
            main) extra=(--splits "$splits"); out="$results/$name.json" ;;
            val) extra=(--splits "$val_splits" --val-frac 0.2); out="$results/$name-val.json" ;;
            # ANMIN and LBFGS with a larger, equal iteration budget.
            long) opts=anmin,lbfgs; extra=(--splits "$val_splits" --iters 100); out="$results/$name-long.json" ;;
        esac
        echo "== $name ($variant)" >&2
        "$anmin" compare --data "$file" --hidden 64 --optimizers "$opts" "${extra[@]}" \
            --quiet --resume --out "$out" --plot "${out%.json}.svg" > "${out%.json}.md"
        # The per-run histories were only needed to survive an interruption.
        rm -f "$out.runs.jsonl"
    done
done
elapsed=$((SECONDS - seconds_at_start))

images_md=""
if [[ -x "$root/scripts/paper_images.sh" ]]; then
    echo "== image experiments" >&2
    "$root/scripts/paper_images.sh" "$docs/images" "$anmin" >&2
    images_md="$docs/images/images.md"
fi

python3 "$root/scripts/results_md.py" \
    --results "$results" --out "$docs/RESULTS.md" --started "$started" --seconds "$elapsed" \
    --command "scripts/reproduce.sh $data_dir $splits $val_splits" --data-dir "$data_dir" \
    --anmin "$anmin" --images "$images_md" "${datasets[@]}"
# Keep the figures and images; the data, runs and models behind them are regenerated at will.
if [[ -n $images_md ]]; then
    rm -f "$docs/images/"*.csv "$docs/images/"*.json "$docs/images/"*.txt "$images_md"
fi
echo "wrote $docs/RESULTS.md" >&2
