#!/usr/bin/env python3
"""How fast does safeguarded ANMIN reach the training MSE that Adam reaches in 300 epochs?

On one dataset, seed and hidden size (one thread for every program):
  1. anmin's Adam, 300 epochs: its final training MSE is the target; its training time is T_adam;
  2. PyTorch's Adam on the same split from the same initial network (pytorch_reference.py):
     its training time is T_torch;
  3. anmin's safeguarded ANMIN (up to 100 iterations): the time of the first history entry at
     or below the target is T_anmin.
Prints the three times and the ratios T_adam / T_anmin and T_torch / T_anmin.

Usage: python3 benches/time_to_target.py --data ../shared/data/abalone.csv [--hidden 64] [--seed 0]
           [--also "LABEL=BINARY [ANMIN FLAGS]"]...

--also runs ANMIN once more with another binary and/or flags (e.g. a build of main, or
"refine=target/release/anmin --refine 2"), against the same targets and Adam times, so that
builds are compared in one run.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_reference as ref  # noqa: E402


def split_also(argv):
    """(the arguments without --also, [(label, command words)])."""
    rest, also = [], []
    i = 0
    while i < len(argv):
        if argv[i] == "--also" and i + 1 < len(argv):
            label, _, command = argv[i + 1].partition("=")
            also.append((label, command.split()))
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return rest, also


def run_anmin(args, command, out):
    subprocess.run(
        [command[0], "train", "--data", args.data, "--hidden", str(args.hidden), "--seed", str(args.seed),
         "--threads", str(args.threads), "--iters", "100", "--tol", "0", "--quiet", "--out", out] + command[1:],
        check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def main():
    argv, also = split_also(sys.argv[1:])
    args = ref.parse_args(argv + ["--optimizer", "adam"])
    with tempfile.TemporaryDirectory() as workdir:
        adam, model = ref.run_anmin(args, workdir)
        runs = [("ANMIN", run_anmin(args, [args.anmin], os.path.join(workdir, "anmin.json")))]
        for i, (label, command) in enumerate(also):
            runs.append((f"ANMIN ({label})", run_anmin(args, command, os.path.join(workdir, f"also{i}.json"))))
    target = adam["final"]["train_mse"]
    t_adam = adam["final"]["time_s"]
    torch_final, _, t_torch, _ = ref.train_torch(args, adam, model)
    print(f"data {args.data}, h = {args.hidden}, seed {args.seed}, {args.threads} thread(s)")
    print(f"anmin Adam {args.epochs} epochs: {t_adam:.3f} s, final training MSE {target:.4f}")
    print(f"PyTorch Adam {args.epochs} epochs: {t_torch:.3f} s, final training MSE {torch_final:.4f}")
    status = 0
    for who, anmin in runs:
        for name, goal in [("anmin Adam's", target), ("PyTorch Adam's", torch_final)]:
            hit = next((e for e in anmin["history"] if e["train_mse"] is not None and e["train_mse"] <= goal), None)
            if hit is None:
                print(f"{who} did not reach {name} {goal:.4f} in 100 iterations "
                      f"(best {anmin['best']['train_mse']:.4f})")
                status = 1
                continue
            t_anmin = hit["time_s"]
            print(f"{who} reaches {name} MSE {goal:.4f} at iteration {hit['iter']} ({hit['train_mse']:.4f}) "
                  f"in {t_anmin:.3f} s: {t_adam / t_anmin:.1f}x faster than anmin's Adam, "
                  f"{t_torch / t_anmin:.0f}x faster than PyTorch's Adam")
    return status


if __name__ == "__main__":
    sys.exit(main())
