#!/usr/bin/env python3
"""What the Python layer costs: `ANMINRegressor.fit` against `anmin train` on the same
numbers, one thread each, in time and in peak memory.

    python scripts/python_overhead.py DATA.csv [--anmin PATH] [--hidden 64] [--iters 30]
                                      [--repeats 3] [--optimizer anmin]
    python scripts/python_overhead.py --predict [--rows 100000] [--features 16] [--hidden 64]

With --predict it measures `ANMINRegressor.predict` instead: a model of `--hidden` units on
`--features` inputs applied to `--rows` rows, against the native forward pass the estimator
calls (the model object of the native module: standardization, clipping and the network),
best of `--repeats` each. Prints one JSON object.

DATA.csv is read with pandas and encoded as the CLI encodes it (text columns become one
indicator column per category, sorted, in place), so that both train on the same matrix; the
last column is the target. Each measurement runs in a fresh process: the CLI's peak resident
memory is its own, Python's is the growth of the process's peak during `fit` (the interpreter,
numpy and scikit-learn are loaded before it). Prints one JSON object.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile

FIT = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
from anmin import ANMINRegressor

path, hidden, iters, optimizer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
df = pd.read_csv(path)
columns = []
for name in df.columns[:-1]:
    if not pd.api.types.is_numeric_dtype(df[name]):
        for category in sorted(df[name].unique()):
            columns.append((df[name] == category).astype(np.float64).rename(f"{name}={category}"))
    else:
        columns.append(df[name].astype(np.float64))
X = np.asfortranarray(pd.concat(columns, axis=1).to_numpy(dtype=np.float64))
y = df[df.columns[-1]].to_numpy(dtype=np.float64)
del df, columns
est = ANMINRegressor(hidden=hidden, max_iter=iters, optimizer=optimizer, n_threads=1,
                     auto=False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
est.fit(X, y)
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"wall_s": wall, "train_s": est.history_[-1]["time_s"],
                  "train_mse": est.history_[-1]["train_mse"], "x_mib": X.nbytes / 2**20,
                  "rss_before_mib": before / 1024, "rss_peak_mib": after / 1024}))
"""


def cli_run(anmin, path, hidden, iters, optimizer):
    iters_flag = "--epochs" if optimizer in ("sgd", "adam") else "--iters"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json")
        # A child of a child, so that RUSAGE_CHILDREN holds this run's peak alone.
        code = (
            "import resource, subprocess, sys, time\n"
            "start = time.perf_counter()\n"
            "subprocess.run(sys.argv[1:], check=True)\n"
            "wall = time.perf_counter() - start\n"
            "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        res = subprocess.run(
            [sys.executable, "-c", code, anmin, "train", "--data", path, "--test-frac", "0",
             "--threads", "1", "--hidden", str(hidden), "--optimizer", optimizer, iters_flag,
             str(iters), "--quiet", "--out", out],
            check=True, capture_output=True, text=True)
        wall, rss = res.stdout.split()[-2:]
        with open(out) as f:
            run = json.load(f)
    return {"wall_s": float(wall), "train_s": run["history"][-1]["time_s"],
            "train_mse": run["history"][-1]["train_mse"], "rss_peak_mib": int(rss) / 1024}


PREDICT = r"""
import json, sys, time
import numpy as np
from anmin import ANMINRegressor

rows, features, hidden, repeats = (int(a) for a in sys.argv[1:5])
rng = np.random.default_rng(0)
X = rng.normal(size=(rows, features))
y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
est = ANMINRegressor(hidden=hidden, max_iter=2, n_threads=1, auto=False).fit(X[:4000], y[:4000])
native = est._native_model

def best(f):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)

forward = best(lambda: native.predict(X))
predict = best(lambda: est.predict(X))
same = bool(np.array_equal(est.predict(X), native.predict(X)[:, 0]))
print(json.dumps({"rows": rows, "features": features, "hidden": hidden, "repeats": repeats,
                  "native_forward_s": forward, "predict_s": predict,
                  "predict_over_forward": predict / forward - 1, "same_values": same}))
"""


def predict_main(a):
    res = subprocess.run([sys.executable, "-c", PREDICT, str(a.rows), str(a.features),
                          str(a.hidden), str(a.repeats)], check=True, capture_output=True,
                         text=True)
    print(json.dumps(json.loads(res.stdout.splitlines()[-1]), indent=2))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="?")
    p.add_argument("--predict", action="store_true",
                   help="measure predict against the native forward pass")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--features", type=int, default=16)
    p.add_argument("--anmin", default=shutil.which("anmin"), help="the anmin binary")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--optimizer", default="anmin")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    if a.predict:
        return predict_main(a)
    if not a.data:
        sys.exit("DATA.csv is needed (or --predict)")
    if not a.anmin:
        sys.exit("no anmin binary: pass --anmin")
    cli, py = [], []
    for _ in range(a.repeats):
        cli.append(cli_run(a.anmin, a.data, a.hidden, a.iters, a.optimizer))
        res = subprocess.run([sys.executable, "-c", FIT, a.data, str(a.hidden), str(a.iters),
                              a.optimizer], check=True, capture_output=True, text=True)
        py.append(json.loads(res.stdout.splitlines()[-1]))
    best = lambda runs, key: min(r[key] for r in runs)  # noqa: E731
    summary = {
        "data": os.path.basename(a.data), "hidden": a.hidden, "iters": a.iters,
        "optimizer": a.optimizer, "repeats": a.repeats,
        "cli_wall_s": best(cli, "wall_s"), "cli_train_s": best(cli, "train_s"),
        "fit_wall_s": best(py, "wall_s"), "fit_train_s": best(py, "train_s"),
        "same_train_mse": cli[0]["train_mse"] == py[0]["train_mse"],
        "x_mib": py[0]["x_mib"],
        "cli_rss_peak_mib": best(cli, "rss_peak_mib"),
        "fit_rss_growth_mib": min(r["rss_peak_mib"] - r["rss_before_mib"] for r in py),
    }
    # The layer's cost: fit's wall time against the CLI's own training time (the CLI's wall
    # time also holds process start and CSV parsing, which fit does not do).
    summary["fit_over_cli_train"] = summary["fit_wall_s"] / summary["cli_train_s"] - 1
    summary["cli"], summary["fit"] = cli, py
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
