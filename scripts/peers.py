#!/usr/bin/env python3
"""Test error of anmin's networks against the tools a practitioner would pick instead.

For every dataset and split seed, runs `anmin train --record-split` once per anmin
configuration, then fits scikit-learn's MLPRegressor (one hidden layer of the same width) and
HistGradientBoostingRegressor on exactly the training rows anmin used and scores them on
exactly its test rows. Features get anmin's own preprocessing: one-hot encoded categorical
columns, then standardization with training-row statistics. Prints one markdown table of the
median test MSE over the splits (mean ± std below it), and the median seconds per fit.

    python3 scripts/peers.py [--data-dir ../shared/data] [--sets abalone,airfoil,...]
                             [--seeds 5] [--hidden 64] [--jobs 2] [--anmin target/release/anmin]

Needs python3 with numpy, pandas and scikit-learn (pip install scikit-learn pandas), and the
five UCI sets (abalone, airfoil, concrete, wine, energy as CSV with the target in the last
column; see "Reproducing the paper" in docs/GUIDE.md).
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

# MLPRegressor often stops at max_iter; its result is reported as it is.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name → extra flags of `anmin train`; every run also gets --hidden, --seed and one thread.
ANMIN_CONFIGS = {
    "anmin (defaults)": [],
    "anmin --ridge auto": ["--ridge", "auto"],
    "adam": ["--optimizer", "adam"],
    "adam --val-frac 0.2": ["--optimizer", "adam", "--val-frac", "0.2"],
    "adam --ridge auto": ["--optimizer", "adam", "--ridge", "auto"],
    "sgd": ["--optimizer", "sgd"],
    "sgd --val-frac 0.2": ["--optimizer", "sgd", "--val-frac", "0.2"],
    "lbfgs": ["--optimizer", "lbfgs"],
    "lbfgs --val-frac 0.2": ["--optimizer", "lbfgs", "--val-frac", "0.2"],
    "lbfgs --ridge auto": ["--optimizer", "lbfgs", "--ridge", "auto"],
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "data"))
    p.add_argument("--sets", default="abalone,airfoil,concrete,wine,energy")
    p.add_argument("--seeds", type=int, default=5, help="split seeds 0 … N−1")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--jobs", type=int, default=2, help="anmin runs at once (one thread each)")
    p.add_argument("--anmin", help="the anmin binary [default: build target/release/anmin]")
    p.add_argument(
        "--configs",
        default=",".join(ANMIN_CONFIGS),
        help="anmin configurations to run, comma-separated, from: " + ", ".join(ANMIN_CONFIGS),
    )
    p.add_argument(
        "--peers",
        default=",".join(PEERS),
        help="scikit-learn models to fit, comma-separated, from: " + ", ".join(PEERS),
    )
    return p.parse_args()


def anmin_binary(args):
    if args.anmin:
        return args.anmin
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", os.path.join(ROOT, "Cargo.toml")],
        check=True,
    )
    return os.path.join(ROOT, "target", "release", "anmin")


def run_anmin(binary, path, seed, hidden, flags, workdir):
    out = os.path.join(workdir, f"{os.path.basename(path)}-{seed}-{abs(hash(tuple(flags)))}.json")
    cmd = [binary, "train", "--data", path, "--seed", str(seed), "--hidden", str(hidden),
           "--threads", "1", "--quiet", "--record-split", "--out", out] + flags
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def features(frame):
    """anmin's encoding: numeric columns as they are, other columns one-hot (sorted levels)."""
    x = frame.iloc[:, :-1]
    y = frame.iloc[:, -1].to_numpy(dtype=float)
    numeric = x.apply(pd.to_numeric, errors="coerce")
    parts = []
    for name in x.columns:
        if numeric[name].notna().all():
            parts.append(numeric[[name]].astype(float))
        else:
            parts.append(pd.get_dummies(x[name].astype(str), prefix=name, dtype=float))
    return pd.concat(parts, axis=1).to_numpy(dtype=float), y


def standardized(x, train_rows):
    mean = x[train_rows].mean(axis=0)
    std = x[train_rows].std(axis=0)
    std[std == 0] = 1.0
    return (x - mean) / std


# name → (hidden width, seed) → an unfitted scikit-learn model.
PEERS = {
    "sklearn MLPRegressor": lambda hidden, seed: MLPRegressor(
        hidden_layer_sizes=(hidden,), max_iter=1000, random_state=seed
    ),
    "sklearn MLPRegressor early_stopping": lambda hidden, seed: MLPRegressor(
        hidden_layer_sizes=(hidden,), max_iter=1000, early_stopping=True, random_state=seed
    ),
    "sklearn HistGradientBoosting": lambda hidden, seed: HistGradientBoostingRegressor(
        random_state=seed
    ),
}


def fit_peer(model, x, y, train_rows, test_rows):
    started = time.perf_counter()
    model.fit(x[train_rows], y[train_rows])
    seconds = time.perf_counter() - started
    residual = model.predict(x[test_rows]) - y[test_rows]
    return float(np.mean(residual**2)), seconds


def main():
    args = parse_args()
    binary = anmin_binary(args)
    for name in args.configs.split(","):
        if name not in ANMIN_CONFIGS:
            sys.exit(f"error: unknown --configs entry {name!r}; known: {', '.join(ANMIN_CONFIGS)}")
    for name in filter(None, args.peers.split(",")):
        if name not in PEERS:
            sys.exit(f"error: unknown --peers entry {name!r}; known: {', '.join(PEERS)}")
    configs = {k: ANMIN_CONFIGS[k] for k in args.configs.split(",")}
    chosen_peers = {k: PEERS[k] for k in args.peers.split(",") if k}
    sets = args.sets.split(",")
    results = {}  # (set, method) → list of (test MSE, seconds)
    with tempfile.TemporaryDirectory() as workdir, concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for name in sets:
            path = os.path.join(args.data_dir, f"{name}.csv")
            if not os.path.exists(path):
                sys.exit(f"error: {path} not found (--data-dir)")
            jobs = {
                (method, seed): pool.submit(run_anmin, binary, path, seed, args.hidden, flags, workdir)
                for method, flags in configs.items()
                for seed in range(args.seeds)
            }
            splits = {}
            for (method, seed), job in jobs.items():
                run = job.result()
                results.setdefault((name, method), []).append(
                    (run["final"]["test_mse"], run["final"]["time_s"])
                )
                splits[seed] = (run["split"]["train_rows"], run["split"]["test_rows"])
            x, y = features(pd.read_csv(path))
            for seed in range(args.seeds):
                train_rows, test_rows = splits[seed]
                z = standardized(x, train_rows)
                for method, make in chosen_peers.items():
                    results.setdefault((name, method), []).append(
                        fit_peer(make(args.hidden, seed), z, y, train_rows, test_rows)
                    )
            print(f"done: {name}", file=sys.stderr)

    methods = list(configs) + list(chosen_peers)
    print(f"Median test MSE over split seeds 0–{args.seeds - 1} (h = {args.hidden}; "
          "mean ± std and median seconds per fit below)\n")
    print("| method | " + " | ".join(sets) + " |")
    print("|---|" + "---:|" * len(sets))
    for method in methods:
        cells = [f"{statistics.median(v for v, _ in results[(s, method)]):.4g}" for s in sets]
        print(f"| {method} | " + " | ".join(cells) + " |")
    print("\n| method | " + " | ".join(sets) + " |")
    print("|---|" + "---:|" * len(sets))
    for method in methods:
        cells = []
        for s in sets:
            values = [v for v, _ in results[(s, method)]]
            seconds = statistics.median(t for _, t in results[(s, method)])
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.4g} ± {spread:.2g} ({seconds:.2g} s)")
        print(f"| {method} | " + " | ".join(cells) + " |")

    # The cost of selection, split by split: a --ridge auto run against a default run.
    auto, default = "anmin --ridge auto", "anmin (defaults)"
    if auto in configs and default in configs:
        cells = []
        for s in sets:
            ratios = [a[1] / d[1] for a, d in zip(results[(s, auto)], results[(s, default)])]
            cells.append(f"{statistics.median(ratios):.1f}× (max {max(ratios):.1f}×)")
        print(f"\nSeconds of one `{auto}` run over one `{default}` run on the same split "
              "(median over splits, largest in brackets)\n")
        print("| | " + " | ".join(sets) + " |")
        print("|---|" + "---:|" * len(sets))
        print("| time ratio | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
