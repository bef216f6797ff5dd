#!/usr/bin/env python3
"""Levenberg-Marquardt (MATLAB trainlm's mu rule) in numpy, as a reference for `--optimizer lm`.

Reads the iteration-0 network saved by

    anmin train --data DATA.csv --optimizer lm --test-frac 0 --iters 10 \
        --save-initial-model init.json --out run.json

and the same CSV (every row a training row, as with --test-frac 0; features encoded and
standardized with the model file's encoding and standardizer), runs N iterations of the rule
of src/optim/lm.rs, and prints one JSON line per iteration: {"iter", "train_mse", "mu"}.
Compare train_mse with run.json's history. Like the Rust optimizer it works on targets
standardized by their mean and one common scale sigma (root mean of the outputs' variances),
objective MSE + ridge*(|A|^2 + |B/sigma|^2), and reports MSE in the targets' units.
"""
import argparse
import csv
import json

import numpy as np

MU_MIN = 1e-20
MARQUARDT_FLOOR = 1e-12


def load(model_path, csv_path):
    model = json.load(open(model_path))
    enc, std = model["encoding"], model["standardizer"]
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = []
    for col in enc["inputs"]:
        values = [r[col["name"]].strip() for r in rows]
        if col["kind"] == "numeric":
            cols.append(np.array(values, dtype=float))
        else:
            cols.extend(np.array([v == c for v in values], dtype=float) for c in col["categories"])
    x = np.column_stack(cols) if cols else np.zeros((len(rows), 0))
    mean, scale = np.array(std["mean"]), np.array(std["scale"])
    constant = std.get("constant") or [False] * len(mean)
    if std.get("clip_margin") is not None and std.get("range"):
        lo, hi = np.array(std["range"]).T
        m = std["clip_margin"]
        x = np.clip(x, lo - m * (hi - lo), hi + m * (hi - lo))
    z = x / scale - mean / scale
    z[:, np.array(constant, dtype=bool)] = 0.0
    xt = np.column_stack([z, np.ones(len(rows))])
    y = np.column_stack([np.array([r[t] for r in rows], dtype=float) for t in enc["targets"]])
    a = np.array(model["hidden_weights"])
    b = np.array(model["output_weights"])
    b0 = np.array(model["output_bias"])
    return xt, y, a, b, b0, model["alpha"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="file of --save-initial-model")
    p.add_argument("--data", required=True, help="the CSV the run trained on")
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--mu", type=float, default=1e-3)
    p.add_argument("--mu-dec", type=float, default=0.1)
    p.add_argument("--mu-inc", type=float, default=10.0)
    p.add_argument("--mu-max", type=float, default=1e10)
    p.add_argument("--damping", choices=["identity", "marquardt"], default="identity")
    p.add_argument("--ridge", type=float, default=0.0)
    args = p.parse_args()

    x, y, a, b, b0, alpha = load(args.model, args.data)
    n, k = y.shape
    h, d1 = a.shape
    ymean = y.mean(axis=0)
    sigma = np.sqrt(np.mean(((y - ymean) ** 2).mean(axis=0)))
    sigma = sigma if sigma > 0 and np.isfinite(sigma) else 1.0
    ys = (y - ymean) / sigma
    # w = [A rows; B (k x h) row-major; b0]
    pa, pb = h * d1, k * h
    w = np.concatenate([a.ravel(), (b / sigma).ravel(), (b0 - ymean) / sigma])
    mask = np.r_[np.ones(pa + pb), np.zeros(k)]

    def split(w):
        return w[:pa].reshape(h, d1), w[pa:pa + pb].reshape(k, h), w[pa + pb:]

    def predict(w):
        a, b, b0 = split(w)
        z = x @ a.T
        g = np.where(z > 0, 1.0, alpha)
        return (g * z) @ b.T + b0, z, g

    def objective(w):
        f, _, _ = predict(w)
        return np.mean((ys - f) ** 2) + args.ridge * np.sum((w * mask) ** 2)

    def report(it, w, mu):
        f, _, _ = predict(w)
        mse = sigma ** 2 * np.mean((ys - f) ** 2)
        print(json.dumps({"iter": it, "train_mse": float(mse), "mu": mu}))

    mu = args.mu
    current = objective(w)
    report(0, w, mu)
    for it in range(1, args.iters + 1):
        if mu > args.mu_max:
            break
        a_, b_, _ = split(w)
        f, z, g = predict(w)
        hid = g * z
        # F = d vec(f) / dw, rows output-major (sample i, output c at c*n + i).
        jac = np.zeros((n * k, w.size))
        for c in range(k):
            rows = slice(c * n, (c + 1) * n)
            jac[rows, :pa] = ((b_[c] * g)[:, :, None] * x[:, None, :]).reshape(n, pa)
            jac[rows, pa + c * h:pa + (c + 1) * h] = hid
            jac[rows, pa + pb + c] = 1.0
        r = (ys - f).T.ravel()
        weight = n * k * args.ridge
        normal = jac.T @ jac + np.diag(weight * mask)
        rhs = jac.T @ r - weight * mask * w
        if args.damping == "identity":
            damp = np.ones(w.size)
        else:
            dg = np.diag(normal)
            damp = np.maximum(dg, MARQUARDT_FLOOR * dg.max() if dg.max() > 0 else 1.0)
        accepted = False
        while mu <= args.mu_max:
            try:
                chol = np.linalg.cholesky(normal + np.diag(mu * damp))
                delta = np.linalg.solve(chol.T, np.linalg.solve(chol, rhs))
                value = objective(w + delta)
            except np.linalg.LinAlgError:
                value = np.inf
            if value < current:
                w, current = w + delta, value
                mu = max(mu * args.mu_dec, MU_MIN)
                accepted = True
                break
            mu *= args.mu_inc
        report(it, w, mu)
        if not accepted:
            break


if __name__ == "__main__":
    main()
