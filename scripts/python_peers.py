#!/usr/bin/env python3
"""ANMINRegressor beside scikit-learn's regressors, as a user would run them from Python:
MLPRegressor (Adam and L-BFGS, the same 64-unit ReLU network) and
HistGradientBoostingRegressor, each with its defaults, on random train/test splits.

    python scripts/python_peers.py DATA.csv [DATA.csv ...] [--splits 5] [--hidden 64]

Each CSV's last column is the target; text columns are one-hot encoded. Split s is
`train_test_split(X, y, test_size=0.2, random_state=s)`. The MLPs get standardized inputs
(a Pipeline with StandardScaler, as their documentation advises); ANMINRegressor standardizes
by itself. One thread each. Prints a Markdown table: mean training MSE, mean test MSE ± std,
mean seconds of `fit`.
"""

import argparse
import os
import time
import warnings

# One thread for BLAS and OpenMP too (read when numpy and scikit-learn load).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import mean_squared_error  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from anmin import ANMINRegressor  # noqa: E402


def load(path):
    df = pd.read_csv(path)
    X = pd.get_dummies(df.iloc[:, :-1], dtype=np.float64).to_numpy(dtype=np.float64)
    return X, df.iloc[:, -1].to_numpy(dtype=np.float64)


def models(hidden, seed):
    return {
        "ANMINRegressor": ANMINRegressor(hidden=hidden, random_state=seed),
        "MLPRegressor(adam)": make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=(hidden,), solver="adam", random_state=seed)),
        "MLPRegressor(lbfgs)": make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=(hidden,), solver="lbfgs", random_state=seed)),
        "HistGradientBoosting": HistGradientBoostingRegressor(random_state=seed),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="+")
    p.add_argument("--splits", type=int, default=5)
    p.add_argument("--hidden", type=int, default=64)
    a = p.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    print("| data | model | train MSE | test MSE (± std) | seconds |")
    print("| --- | --- | ---: | ---: | ---: |")
    for path in a.data:
        X, y = load(path)
        results = {}
        for s in range(a.splits):
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=s)
            for name, model in models(a.hidden, s).items():
                start = time.perf_counter()
                model.fit(Xtr, ytr)
                seconds = time.perf_counter() - start
                results.setdefault(name, []).append((
                    mean_squared_error(ytr, model.predict(Xtr)),
                    mean_squared_error(yte, model.predict(Xte)), seconds))
        for name, rows in results.items():
            r = np.array(rows)
            print(f"| {os.path.splitext(os.path.basename(path))[0]} | {name} | "
                  f"{r[:, 0].mean():.4g} | {r[:, 1].mean():.4g} ± {r[:, 1].std():.2g} | "
                  f"{r[:, 2].mean():.3f} |", flush=True)


if __name__ == "__main__":
    main()
