#!/usr/bin/env bash
# Reproduces the paper's comparison on the five UCI regression datasets and writes
# docs/RESULTS.md with one table and one figure per dataset, early stopping, and a summary.
#
#   scripts/reproduce.sh DATA_DIR [SPLITS [VAL_SPLITS]]
#
# DATA_DIR holds abalone.csv, airfoil.csv, concrete.csv, wine.csv and energy.csv (target in the
# last column). SPLITS random splits per dataset (default 100) for the main comparison, and
# VAL_SPLITS (default 30) for the comparison with early stopping (--val-frac 0.2) and for
# ANMIN against LBFGS with 100 iterations each. Every
# optimizer gets h = 64 hidden units and its default budget: ANMIN 30 iterations, Adam and SGD
# 300 epochs, LBFGS 100 outer iterations. An interrupted reproduction resumes where it stopped
# when run again with the same arguments. Needs cargo, python3 (standard library only) and,
# for the image experiments (scripts/paper_images.sh), jq.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
data_dir=$1
splits=${2:-100}
val_splits=${3:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
docs="$root/docs"
results="$docs/results"
mkdir -p "$results"

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
anmin="$root/target/release/anmin"
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
    --command "scripts/reproduce.sh $* (splits $splits, early-stopping splits $val_splits)" \
    --anmin "$anmin" --images "$images_md" "${datasets[@]}"
# Keep the figures and images; the data, runs and models behind them are regenerated at will.
if [[ -n $images_md ]]; then
    rm -f "$docs/images/"*.csv "$docs/images/"*.json "$docs/images/"*.txt "$images_md"
fi
echo "wrote $docs/RESULTS.md" >&2
