#!/usr/bin/env python3
"""anmin's test MSE and fit time beside the tabular anchors, on the anchors' own splits.

For every set of the anchors file (../shared/anchors/tabular.csv: HistGradientBoosting,
pytabkit's tuned-default LightGBM "LGBM-TD" and RealMLP-TD, on exactly the rows that
`anmin train --seed S --record-split` trains and tests on, seeds 0-2), runs `anmin train` with
the given flags on the same seeds, one thread each, and prints a markdown table of the median
test MSE over the seeds, each method's median fit time, and the counts the prediction targets
name: sets at or below LGBM-TD, at or below RealMLP-TD, within 10 % of the better of the two,
and anmin's fit time over RealMLP-TD's and LGBM-TD's.

    python3 scripts/anchors_table.py [--anmin target/release/anmin] [--flags "--auto"]
        [--data-dir ../shared/data] [--anchors ../shared/anchors/tabular.csv]
        [--sets abalone,airfoil] [--seeds 0,1,2] [--jobs 2] [--json runs.json]

Fit time is the run JSON's `final.time_s` (training work, selection included). Needs only
python3; the anchors' own times were measured with one thread on a shared 2-core machine, so
compare times as ratios and re-run a peer (../shared/tools/anchors.py) for a time measured
beside yours.
"""

import argparse
import concurrent.futures
import csv
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = ("hgb", "lgbm-td", "realmlp-td")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--anmin", default=os.path.join(ROOT, "target", "release", "anmin"))
    p.add_argument("--flags", default="--auto", help="flags of `anmin train` (one string)")
    p.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "data"))
    p.add_argument("--anchors", default=os.path.join(ROOT, "..", "shared", "anchors", "tabular.csv"))
    p.add_argument("--sets", help="comma-separated; default: every set of the anchors file")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--jobs", type=int, default=2, help="anmin runs at once (one thread each)")
    p.add_argument("--json", help="also write every run's (set, seed, test_mse, time_s) here")
    return p.parse_args()


def read_anchors(path):
    rows = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            rows.setdefault((r["set"], r["peer"]), {})[int(r["seed"])] = (
                float(r["test_mse"]), float(r["fit_s"]))
    return rows


def run(binary, path, seed, flags, workdir):
    out = os.path.join(workdir, f"{os.path.basename(path)}-{seed}.json")
    cmd = [binary, "train", "--data", path, "--seed", str(seed), "--threads", "1", "--quiet",
           "--out", out] + flags
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(shlex.quote, cmd))} failed:\n{done.stderr}")
    with open(out) as f:
        report = json.load(f)
    return report["final"]["test_mse"], report["final"]["time_s"]


def main():
    args = parse_args()
    anchors = read_anchors(args.anchors)
    sets = args.sets.split(",") if args.sets else sorted({s for s, _ in anchors})
    seeds = [int(s) for s in args.seeds.split(",")]
    flags = shlex.split(args.flags)
    results = {}
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        jobs = {}
        for name in sets:
            os.makedirs(os.path.join(tmp, name), exist_ok=True)
            path = os.path.join(args.data_dir, name + ".csv")
            for seed in seeds:
                jobs[(name, seed)] = pool.submit(run, args.anmin, path, seed, flags,
                                                 os.path.join(tmp, name))
        for key, job in jobs.items():
            results[key] = job.result()
            print(f"{key[0]} seed {key[1]}: test MSE {results[key][0]:.6g}, "
                  f"{results[key][1]:.2f} s", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"set": s, "seed": k, "test_mse": m, "time_s": t}
                       for (s, k), (m, t) in results.items()], f, indent=1)

    def med(values):
        return statistics.median(values)

    label = "anmin " + args.flags
    print(f"| set | {label} | HGB | LGBM-TD | RealMLP-TD | s anmin | s LGBM-TD | s RealMLP-TD "
          f"| anmin/best | time/LGBM-TD | time/RealMLP-TD |")
    print("|---|" + "---:|" * 10)
    counts = {"lgbm": 0, "realmlp": 0, "within10": 0, "hgb": 0}
    lgbm_ratios, realmlp_ratios = [], []
    for name in sets:
        ours = med([results[(name, s)][0] for s in seeds])
        ours_t = med([results[(name, s)][1] for s in seeds])
        peer = {p: med([anchors[(name, p)][s][0] for s in seeds]) for p in PEERS}
        peer_t = {p: med([anchors[(name, p)][s][1] for s in seeds]) for p in PEERS}
        best = min(peer["lgbm-td"], peer["realmlp-td"])
        counts["lgbm"] += ours <= peer["lgbm-td"]
        counts["realmlp"] += ours <= peer["realmlp-td"]
        counts["within10"] += ours <= 1.1 * best
        counts["hgb"] += ours <= peer["hgb"]
        lgbm_ratios.append(ours_t / peer_t["lgbm-td"])
        realmlp_ratios.append(ours_t / peer_t["realmlp-td"])
        print(f"| {name} | {ours:.4g} | {peer['hgb']:.4g} | {peer['lgbm-td']:.4g} "
              f"| {peer['realmlp-td']:.4g} | {ours_t:.2f} | {peer_t['lgbm-td']:.2f} "
              f"| {peer_t['realmlp-td']:.2f} | {ours / best:.3f} | {lgbm_ratios[-1]:.2f} "
              f"| {realmlp_ratios[-1]:.3f} |")
    n = len(sets)
    print()
    print(f"- at or below LGBM-TD on {counts['lgbm']} of {n} sets; at or below RealMLP-TD on "
          f"{counts['realmlp']}; within 10 % of the better of the two on {counts['within10']}; "
          f"at or below HGB on {counts['hgb']}.")
    print(f"- fit time over LGBM-TD's: median {med(lgbm_ratios):.2f}; over RealMLP-TD's: "
          f"largest {max(realmlp_ratios):.3f}.")


if __name__ == "__main__":
    main()
