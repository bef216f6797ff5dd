#!/usr/bin/env sh
# Test error of `--ridge auto` against every neural peer and gradient boosting.
#
#     scripts/generalization.sh DATA_DIR SPLITS > docs/results/generalization.md
#
# DATA_DIR holds abalone, airfoil, concrete, wine, energy, sml and keggdirected as CSV with
# the target in the last column (../shared/data beside the project's checkout; see the
# "Reproducing the paper" and "Choosing the penalty" in docs/GUIDE.md). For split seeds 0 … SPLITS−1
# and h = 64, prints a markdown section: the median test MSE, the mean ± std with the median seconds per fit, and the time of a
# `--ridge auto` run over a default run. The gradient optimizers stop early on the same
# held-out fifth of the training rows (`--val-frac 0.2`); scikit-learn fits exactly anmin's
# training rows (`--record-split`) and scores its test rows. Two anmin runs at a time, one
# thread each. Needs python3 with numpy, pandas and scikit-learn; about 20 minutes for 10
# splits on a 2-core machine. scripts/results_md.py puts the section into docs/RESULTS.md.
# Then `--auto` and `--ridge auto` beside the tabular anchors (../shared/anchors/tabular.csv:
# HistGradientBoosting, tuned-default LightGBM and RealMLP on anmin's own splits, seeds 0-2)
# on all eighteen sets of DATA_DIR, by scripts/anchors_table.py: about an hour more.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 DATA_DIR SPLITS" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
anmin=${CARGO_TARGET_DIR:-$root/target}/release/anmin
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
tables=$(python3 "$root/scripts/peers.py" --anmin "$anmin" \
    --data-dir "$1" --seeds "$2" --hidden 64 \
    --sets abalone,airfoil,concrete,wine,energy,sml,keggdirected \
    --configs "anmin (defaults),anmin --ridge auto,adam --val-frac 0.2,sgd --val-frac 0.2,lbfgs --val-frac 0.2" \
    --peers "sklearn MLPRegressor early_stopping,sklearn HistGradientBoosting")
cat <<MARKDOWN
## Test error against the tools people use

- Command: \`scripts/generalization.sh $1 $2\` (from the repository root).
- Started $started; $("$anmin" --version); $(nproc) cores${cpu:+ ($cpu)}; scikit-learn $(python3 -c 'import sklearn; print(sklearn.__version__)').
- Every method gets the same 80/20 split of each seed. \`adam\`, \`sgd\` and \`lbfgs\` are anmin's
  own optimizers with their default budgets, stopping early on a held-out fifth of the
  training rows; scikit-learn's MLPRegressor (one hidden layer of 64, \`early_stopping=True\`)
  and HistGradientBoostingRegressor (defaults) see anmin's preprocessed features. Seconds are
  training time per fit (anmin: the run JSON's \`final.time_s\`, which includes
  \`--ridge auto\`'s selection), two anmin runs at a time on one thread each.

$tables

## The prediction preset (--auto) beside the tabular anchors

Median test MSE and fit seconds over split seeds 0–2 on the eighteen sets; the peers' figures
are ../shared/anchors/tabular.csv (one thread each, measured by ../shared/tools/anchors.py on
the same rows). Command: \`python3 scripts/anchors_table.py --flags=--auto --data-dir $1\`.

$(python3 "$root/scripts/anchors_table.py" --anmin "$anmin" --data-dir "$1" --flags=--auto)

The same with one network (\`--flags="--ridge auto"\`):

$(python3 "$root/scripts/anchors_table.py" --anmin "$anmin" --data-dir "$1" "--flags=--ridge auto")
MARKDOWN
