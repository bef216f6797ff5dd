#!/usr/bin/env python3
"""Cross-check anmin's gradient baselines against PyTorch on exactly the same problem.

For one CSV file, seed and hidden size this script
  1. runs `anmin train --optimizer OPT` with --record-split and --save-initial-model, so that it
     knows anmin's split, preprocessing (one-hot encoding, standardization) and initial network;
  2. trains the same network from the same start with PyTorch's optimizer and the same
     settings (float64, targets standardized as anmin does, same batch size, epochs reshuffled,
     MSELoss with mean reduction), timing only the training;
  3. prints both final training MSEs (in target units) and the time per epoch / outer step,
     and their ratio.

Usage:
  python3 benches/pytorch_reference.py --data ../shared/data/abalone.csv \
      [--optimizer adam|sgd|lbfgs] [--hidden 64] [--seed 0] [--epochs 300] [--threads 1]

Needs numpy and torch (pip install numpy torch). Builds anmin with `cargo build --release`.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch


def run_anmin(args, workdir):
    out = os.path.join(workdir, "ours.json")
    init = os.path.join(workdir, "init.json")
    cmd = [
        args.anmin, "train", "--data", args.data, "--hidden", str(args.hidden),
        "--seed", str(args.seed), "--optimizer", args.optimizer, "--threads", str(args.threads),
        "--record-split", "--save-initial-model", init, "--out", out, "--quiet",
    ]
    if args.optimizer in ("adam", "sgd"):
        cmd += ["--epochs", str(args.epochs), "--lr", str(args.lr), "--batch-size", str(args.batch_size)]
        if args.optimizer == "sgd":
            cmd += ["--momentum", str(args.momentum)]
    else:
        cmd += ["--iters", str(args.epochs), "--lr", str(args.lr), "--history", str(args.history)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        ours = json.load(f)
    with open(init) as f:
        model = json.load(f)
    return ours, model


def encode(path, model):
    """The inputs and targets of every row of `path`, encoded as the model file says."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = [h.strip() for h in rows[0]], [[c.strip() for c in r] for r in rows[1:] if r]
    col = {name: i for i, name in enumerate(header)}
    features = []
    for spec in model["encoding"]["inputs"]:
        values = [r[col[spec["name"]]] for r in rows]
        if spec["kind"] == "numeric":
            features.append(np.array(values, dtype=float)[:, None])
        else:
            cats = spec["categories"]
            features.append(np.array([[1.0 if v == c else 0.0 for c in cats] for v in values]))
    x = np.hstack(features)
    std = model["standardizer"]
    x = x / np.array(std["scale"]) - np.array(std["mean"]) / np.array(std["scale"])
    y = np.array([[float(r[col[t]]) for t in model["encoding"]["targets"]] for r in rows])
    return x, y


def train_torch(args, ours, model):
    """Trains anmin's initial network with PyTorch on anmin's split; returns (final training
    MSE, best training MSE, seconds of training, training rows)."""
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)
    x, y = encode(args.data, model)
    train_rows = ours["split"]["train_rows"]
    x_train, y_train = x[train_rows], y[train_rows]
    # anmin's gradient methods standardize targets: per-output mean, one common scale.
    mean = y_train.mean(axis=0)
    scale = np.sqrt(((y_train - mean) ** 2).mean(axis=0).mean()) or 1.0
    xt = torch.tensor(x_train)
    yt = torch.tensor((y_train - mean) / scale)

    a = np.array(model["hidden_weights"])
    b = np.array(model["output_weights"])
    b0 = np.array(model["output_bias"])
    hidden = torch.nn.Linear(a.shape[1] - 1, a.shape[0])
    output = torch.nn.Linear(b.shape[1], b.shape[0])
    with torch.no_grad():
        hidden.weight.copy_(torch.tensor(a[:, :-1]))
        hidden.bias.copy_(torch.tensor(a[:, -1]))
        output.weight.copy_(torch.tensor(b / scale))
        output.bias.copy_(torch.tensor((b0 - mean) / scale))
    net = torch.nn.Sequential(hidden, torch.nn.ReLU(), output)
    loss_fn = torch.nn.MSELoss()
    params = list(net.parameters())
    if args.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=args.lr)
    elif args.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
    else:
        opt = torch.optim.LBFGS(params, lr=args.lr, history_size=args.history, line_search_fn="strong_wolfe")

    def train_mse():
        with torch.no_grad():
            return float(loss_fn(net(xt), yt)) * scale**2

    generator = torch.Generator().manual_seed(args.seed)
    n = xt.shape[0]
    best = train_mse()
    elapsed = 0.0
    for _ in range(args.epochs):
        start = time.perf_counter()
        if args.optimizer == "lbfgs":
            def closure():
                opt.zero_grad()
                loss = loss_fn(net(xt), yt)
                loss.backward()
                return loss
            opt.step(closure)
        else:
            for idx in torch.randperm(n, generator=generator).split(args.batch_size):
                opt.zero_grad()
                loss = loss_fn(net(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
        elapsed += time.perf_counter() - start
        current = train_mse()
        if np.isfinite(current):
            best = min(best, current)

    return train_mse(), best, elapsed, n


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd", "lbfgs"])
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="epochs (adam, sgd) or outer iterations (lbfgs)")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--history", type=int, default=10)
    p.add_argument("--threads", type=int, default=1, help="threads for both anmin and PyTorch")
    p.add_argument("--anmin", default=None, help="anmin binary (default: build target/release/anmin)")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 100 if args.optimizer == "lbfgs" else 300
    if args.lr is None:
        args.lr = 1.0 if args.optimizer == "lbfgs" else 1e-3
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.anmin is None:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=root, check=True)
        args.anmin = os.path.join(root, "target", "release", "anmin")
    return args


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        ours, model = run_anmin(args, workdir)

    theirs_final, best, elapsed, n = train_torch(args, ours, model)
    ours_final = ours["final"]["train_mse"]
    ours_time = ours["final"]["time_s"] - ours["history"][0]["time_s"]
    unit = "outer step" if args.optimizer == "lbfgs" else "epoch"
    print(f"data {args.data}, h = {args.hidden}, seed {args.seed}, {args.optimizer}, "
          f"{args.epochs} {unit}s, {args.threads} thread(s), n_train = {n}")
    print(f"final training MSE: anmin {ours_final:.4f} (best {ours['best']['train_mse']:.4f}), "
          f"PyTorch {theirs_final:.4f} (best {best:.4f}); ratio {ours_final / theirs_final:.3f}")
    print(f"time per {unit}: anmin {1e3 * ours_time / args.epochs:.3f} ms, "
          f"PyTorch {1e3 * elapsed / args.epochs:.3f} ms; PyTorch/anmin = {elapsed / ours_time:.1f}")


if __name__ == "__main__":
    sys.exit(main())
