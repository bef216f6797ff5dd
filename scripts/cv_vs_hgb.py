#!/usr/bin/env python3
"""`ANMINRegressor()` with default parameters against `HistGradientBoostingRegressor()` in
5-fold `cross_val_score` (R²), as a new user would compare them.

    python3 scripts/cv_vs_hgb.py [--data-dir ../shared/data] [--sets abalone,airfoil]
        [--folds 5] [--threads 1]

For each set (a CSV with a header row, the target in the last column; text columns one-hot
encoded, as both estimators take numbers), prints the mean R² over the folds of both
estimators, their fit seconds, and the count of sets where anmin's R² is at or above
HistGradientBoosting's. Both see the same folds (KFold, shuffled, random_state 0). Needs the
installed `anmin` package, numpy, pandas and scikit-learn.
"""

import argparse
import os

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold, cross_validate

from anmin import ANMINRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ("abalone airfoil autompg concrete concreteslump energy forest gas keggdirected "
        "keggundirected machine pendulum servo sml solar stock tamielectric wine").split()


def load(path):
    frame = pd.read_csv(path)
    y = frame.iloc[:, -1].to_numpy(dtype=np.float64)
    X = pd.get_dummies(frame.iloc[:, :-1], dtype=np.float64).to_numpy(dtype=np.float64)
    return X, y


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "data"))
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    cv = KFold(args.folds, shuffle=True, random_state=0)
    print("| set | ANMINRegressor() R² | HGB() R² | s anmin | s HGB |")
    print("|---|---:|---:|---:|---:|")
    wins = total = 0
    for name in args.sets.split(","):
        X, y = load(os.path.join(args.data_dir, f"{name}.csv"))
        scores = {}
        for label, est in (("anmin", ANMINRegressor(n_threads=args.threads)),
                           ("hgb", HistGradientBoostingRegressor())):
            result = cross_validate(est, X, y, cv=cv, scoring="r2")
            scores[label] = (result["test_score"].mean(), result["fit_time"].mean())
        total += 1
        wins += scores["anmin"][0] >= scores["hgb"][0]
        print(f"| {name} | {scores['anmin'][0]:.4f} | {scores['hgb'][0]:.4f} | "
              f"{scores['anmin'][1]:.2f} | {scores['hgb'][1]:.2f} |", flush=True)
    print(f"\nANMINRegressor() at or above HistGradientBoostingRegressor() on {wins} of {total} "
          f"sets ({args.folds}-fold R², mean over folds).")


if __name__ == "__main__":
    main()
