#!/usr/bin/env sh
# Test error of `--ridge auto` against every neural peer and gradient boosting.
#
#     scripts/generalization.sh DATA_DIR SPLITS
#
# DATA_DIR holds abalone, airfoil, concrete, wine, energy, sml and keggdirected as CSV with the
# target in the last column (../shared/data in the project's checkout; see the README's "Data
# for the measurements"). For split seeds 0 … SPLITS−1 and h = 64, prints the median test MSE,
# the mean ± std with the median seconds per fit, and the time of a `--ridge auto` run over a
# default run. The gradient optimizers stop early on the same held-out fifth of the training
# rows (`--val-frac 0.2`); scikit-learn fits exactly anmin's training rows (`--record-split`)
# and scores its test rows. Needs python3 with numpy, pandas and scikit-learn.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 DATA_DIR SPLITS" >&2
    exit 2
fi
exec python3 "$(dirname "$0")/peers.py" \
    --data-dir "$1" --seeds "$2" --hidden 64 \
    --sets abalone,airfoil,concrete,wine,energy,sml,keggdirected \
    --configs "anmin (defaults),anmin --ridge auto,adam --val-frac 0.2,sgd --val-frac 0.2,lbfgs --val-frac 0.2" \
    --peers "sklearn MLPRegressor early_stopping,sklearn HistGradientBoosting"
