#!/usr/bin/env python3
"""Classification: `anmin train --auto` beside the classifiers people use, on the same splits.

For each CSV of the classification sets (../shared/data/classification, label last) and each
seed, `anmin train --auto --task classify --seed S --record-split --threads 1` trains on 80 %
of the rows and reports its test accuracy and log loss; then every peer trains on exactly
those training rows and is scored on exactly those test rows: scikit-learn's HistGradientBoostingClassifier,
MLPClassifier(64 units, early_stopping=True) and LogisticRegression, and pytabkit's
LGBM_TD_Classifier and RealMLP_TD_Classifier (device cpu, one thread), all with default
parameters. The peers see the features as anmin encodes them: text columns one-hot (missing as
a category of its own), numbers with missing values imputed by the training median plus a
missing indicator, standardized on the training rows.

    python3 scripts/classification.py [--anmin target/release/anmin]
        [--data-dir ../shared/data/classification] [--sets penguins,digits]
        [--seeds 0,1,2] [--peers anmin,hgb,mlp,logreg,lgbm-td,realmlp-td] [--out rows.csv]

Appends one row per (set, seed, method) to --out (resuming an interrupted run) and prints a
markdown table of the medians over the seeds (accuracy, log loss, fit seconds) and the counts
the issue names. anmin's fit time is its run JSON's `final.time_s` (training work, metrics
excluded); the peers' is the wall time of `fit`. Needs numpy, pandas, scikit-learn and, for
the two pytabkit peers, pytabkit (pip).
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

warnings.filterwarnings("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ["breast_cancer", "digits", "credit_data", "mlc_churn", "penguins", "cells",
        "leaf_id_flavia"]
PEERS = ["anmin", "hgb", "mlp", "logreg", "lgbm-td", "realmlp-td"]
FIELDS = ["set", "seed", "method", "n_train", "n_test", "accuracy", "log_loss", "fit_s"]
# The cells anmin reads as missing (src/data/cell.rs), compared case-insensitively.
MISSING = {"", "na", "nan", "?", "null"}


def anmin_run(binary, path, seed, tmp):
    out = os.path.join(tmp, f"run{seed}.json")
    subprocess.run([binary, "train", "--data", path, "--auto", "--task", "classify",
                    "--seed", str(seed), "--record-split", "--threads", "1", "--quiet",
                    "--out", out],
                   check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def read_table(path):
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = raw.apply(lambda c: c.str.strip().str.lower().isin(MISSING))
    table = raw.mask(missing)
    label = table.columns[-1]
    # anmin drops rows whose label is missing before it splits.
    table = table[table[label].notna()].reset_index(drop=True)
    return table.drop(columns=[label]), table[label].str.strip()


def encode(X, train, test):
    """One-hot text columns (missing a category of its own), median-imputed numbers with a
    missing indicator, standardized on the training rows."""
    parts_train, parts_test = [], []
    for col in X.columns:
        values = X[col]
        numeric = pd.to_numeric(values, errors="coerce")
        if (numeric.isna() & values.notna()).sum() > max(3, 0.01 * len(values)):
            cats = values.fillna("(missing)")
            levels = sorted(cats.iloc[train].unique())
            for level in levels:
                parts_train.append((cats.iloc[train] == level).to_numpy(float))
                parts_test.append((cats.iloc[test] == level).to_numpy(float))
            continue
        tr, te = numeric.iloc[train].to_numpy(float), numeric.iloc[test].to_numpy(float)
        median = np.nanmedian(tr) if np.isfinite(tr).any() else 0.0
        if np.isnan(tr).any():
            parts_train.append(np.isnan(tr).astype(float))
            parts_test.append(np.isnan(te).astype(float))
        tr, te = np.where(np.isnan(tr), median, tr), np.where(np.isnan(te), median, te)
        sd = tr.std() or 1.0
        parts_train.append((tr - tr.mean()) / sd)
        parts_test.append((te - tr.mean()) / sd)
    return np.column_stack(parts_train), np.column_stack(parts_test)


def make(method, seed):
    if method == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        return HistGradientBoostingClassifier(random_state=seed)
    if method == "mlp":
        from sklearn.neural_network import MLPClassifier
        return MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, random_state=seed)
    if method == "logreg":
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression()
    import torch
    torch.set_num_threads(1)
    import pytabkit
    cls = {"lgbm-td": pytabkit.LGBM_TD_Classifier,
           "realmlp-td": pytabkit.RealMLP_TD_Classifier}[method]
    return cls(random_state=seed, device="cpu", verbosity=0, n_threads=1)


def score(classes, y_test, proba, model_classes):
    """Accuracy and log loss over every class of the set (a class no training row had gets
    probability 0, clipped as scikit-learn's log_loss clips)."""
    from sklearn.metrics import log_loss
    full = np.zeros((len(y_test), len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model_classes):
        full[:, index[c]] = proba[:, j]
    predicted = np.asarray(classes)[np.argmax(full, axis=1)]
    accuracy = float(np.mean(predicted == np.asarray(y_test)))
    return accuracy, float(log_loss(y_test, full, labels=classes))


def run_peer(method, seed, data):
    X_train, y_train, X_test, y_test, classes = data
    model = make(method, seed)
    started = time.perf_counter()
    model.fit(X_train, y_train)
    fit_s = time.perf_counter() - started
    proba = np.asarray(model.predict_proba(X_test))
    return score(classes, y_test, proba, [str(c) for c in model.classes_]) + (fit_s,)


def measure(args, done, writer):
    tmp = tempfile.mkdtemp()
    for name in args.sets:
        path = os.path.join(args.data_dir, f"{name}.csv")
        X, y = read_table(path)
        classes = sorted(y.unique())
        for seed in args.seeds:
            todo = [m for m in args.peers if (name, seed, m) not in done]
            if not todo:
                continue
            run = anmin_run(args.anmin, path, seed, tmp)
            train, test = run["split"]["train_rows"], run["split"]["test_rows"]
            rows = []
            if "anmin" in todo:
                f = run["final"]
                rows.append(("anmin", f["test_accuracy"], f["test_log_loss"], f["time_s"]))
            X_train, X_test = encode(X, train, test)
            data = (X_train, y.iloc[train].to_numpy(), X_test, y.iloc[test].to_numpy(), classes)
            for method in todo:
                if method != "anmin":
                    rows.append((method, *run_peer(method, seed, data)))
            for method, accuracy, loss, fit_s in rows:
                writer.writerow(dict(set=name, seed=seed, method=method, n_train=len(train),
                                     n_test=len(test), accuracy=accuracy, log_loss=loss,
                                     fit_s=fit_s))
                print(f"{name} seed {seed} {method}: accuracy {accuracy:.4f}, log loss "
                      f"{loss:.4f}, {fit_s:.2f} s", file=sys.stderr, flush=True)


def table(path, sets, methods):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    med = {}
    for (s, m) in {(r["set"], r["method"]) for r in rows}:
        mine = [r for r in rows if r["set"] == s and r["method"] == m]
        med[s, m] = {k: statistics.median(float(r[k]) for r in mine)
                     for k in ("accuracy", "log_loss", "fit_s")}
    present = [m for m in methods if any((s, m) in med for s in sets)]
    lines = ["| set | " + " | ".join(present) + " |",
             "|---|" + "---:|" * len(present)]
    for key, label in (("accuracy", "test accuracy"), ("log_loss", "test log loss"),
                       ("fit_s", "fit s")):
        lines.append(f"| **{label}** |" + " |" * len(present))
        for s in sets:
            cells = [f"{med[s, m][key]:.4f}" if key != "fit_s" and (s, m) in med
                     else (f"{med[s, m][key]:.2f}" if (s, m) in med else "-") for m in present]
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
    have = [s for s in sets if (s, "anmin") in med]
    counts = []
    def count(label, peer, test):
        pool = [s for s in have if all((s, p) in med for p in peer)]
        if pool:
            counts.append(f"- {label}: {sum(test(s) for s in pool)} of {len(pool)}")
    a = lambda s, m: med[s, m]["accuracy"]  # noqa: E731
    count("accuracy at or above HistGradientBoosting's", ["hgb"],
          lambda s: a(s, "anmin") >= a(s, "hgb"))
    count("accuracy within 1 point of the better of LGBM-TD and RealMLP-TD",
          ["lgbm-td", "realmlp-td"],
          lambda s: a(s, "anmin") >= max(a(s, "lgbm-td"), a(s, "realmlp-td")) - 0.01)
    count("log loss at or below MLPClassifier's", ["mlp"],
          lambda s: med[s, "anmin"]["log_loss"] <= med[s, "mlp"]["log_loss"])
    count("fit time at most a fifth of RealMLP-TD's", ["realmlp-td"],
          lambda s: med[s, "anmin"]["fit_s"] <= med[s, "realmlp-td"]["fit_s"] / 5)
    return "\n".join(lines + [""] + counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--anmin", default=os.path.join(ROOT, "target", "release", "anmin"))
    ap.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "data",
                                                       "classification"))
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--out", default="classification_rows.csv")
    args = ap.parse_args()
    args.sets = args.sets.split(",")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.peers = args.peers.split(",")
    done = set()
    if os.path.exists(args.out):
        with open(args.out) as f:
            done = {(r["set"], int(r["seed"]), r["method"]) for r in csv.DictReader(f)}
    new = not os.path.exists(args.out)
    with open(args.out, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        measure(args, done, writer)
    print(table(args.out, args.sets, args.peers))


if __name__ == "__main__":
    main()
