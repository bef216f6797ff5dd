#!/usr/bin/env bash
# Runs a fixed set of commands with two builds of anmin and diffs their JSON outputs with the
# times removed: the same command and seed must give the same results before and after a
# change that is meant to keep behaviour (a refactoring).
#
#   scripts/same_results.sh OLD_BIN NEW_BIN
#
# Exits 0 when every output agrees, 1 (listing the differences) otherwise. Needs python3.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN" >&2; exit 2; }
old=$(realpath "$1"); new=$(realpath "$2")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
"$new" gen teacher --rows 600 --features 5 --hidden 6 --noise 0.3 --seed 4 --out teacher.csv

# name | arguments (outputs are written to $OUT/…)
cases=(
  "anmin|train --quiet --threads 1 --iters 8 --out \$OUT/run.json --save-model \$OUT/model.json --save-initial-model \$OUT/initial.json"
  "plain|train --quiet --threads 1 --optimizer anmin-plain --iters 8 --out \$OUT/run.json"
  "search|train --quiet --threads 1 --step search --refine 2 --iters 6 --out \$OUT/run.json"
  "sgd|train --quiet --threads 1 --optimizer sgd --epochs 5 --lr 0.01 --out \$OUT/run.json"
  "adam|train --quiet --threads 1 --optimizer adam --epochs 5 --batch-size 64 --out \$OUT/run.json"
  "lbfgs|train --quiet --threads 1 --optimizer lbfgs --iters 10 --history 5 --out \$OUT/run.json"
  "ridge|train --quiet --threads 1 --ridge 1e-3 --iters 8 --out \$OUT/run.json"
  "auto|train --quiet --threads 1 --ridge auto --iters 10 --out \$OUT/run.json --save-model \$OUT/model.json"
  "val|train --quiet --threads 1 --val-frac 0.25 --optimizer adam --epochs 6 --out \$OUT/run.json"
  "teacher|train --quiet --threads 1 --data teacher.csv --hidden 12 --iters 10 --record-split --out \$OUT/run.json --save-model \$OUT/model.json"
  "dual|train --quiet --threads 1 --data teacher.csv --hidden 200 --a-solver dual --iters 3 --out \$OUT/run.json"
  "sampled|train --quiet --threads 1 --data teacher.csv --hidden 4 --a-solver sampled --a-sample-factor 2 --iters 5 --out \$OUT/run.json"
  "cg|train --quiet --threads 1 --data teacher.csv --hidden 12 --a-solver cg --iters 4 --out \$OUT/run.json"
  "compare|compare --quiet --data teacher.csv --splits 3 --jobs 2 --hidden 8 --iters 5 --epochs 3 --optimizers anmin,adam,sgd,lbfgs --out \$OUT/compare.json"
  "compare-auto|compare --quiet --data teacher.csv --splits 2 --jobs 1 --hidden 8 --iters 6 --epochs 4 --ridge auto --optimizers anmin,adam --out \$OUT/compare.json"
)

for bin_name in old new; do
  bin=$([ $bin_name = old ] && echo "$old" || echo "$new")
  for case in "${cases[@]}"; do
    name=${case%%|*}; args=${case#*|}
    OUT="$work/$bin_name/$name"; mkdir -p "$OUT"
    eval "\"$bin\" $args" > "$OUT/stdout.txt"
  done
  # summarize and predict on what train wrote
  d="$work/$bin_name"
  "$bin" summarize "$d/anmin/run.json" "$d/sgd/run.json" "$d/adam/run.json" --out "$d/summary.json" > "$d/summary.txt"
  "$bin" predict --model "$d/teacher/model.json" --data teacher.csv --out "$d/predict-teacher.csv"
  "$bin" predict --model "$d/auto/model.json" --data teacher.csv --out "$d/predict-auto.csv" 2> "$d/predict-auto.txt" || true
  "$bin" gen dae --size 16 --patch 4 --stride 4 --out "$d/dae.csv"
  "$bin" gen sdf --size 16 --out "$d/sdf.csv"
done

python3 - "$work/old" "$work/new" <<'PY'
import json, os, sys, re
old, new = sys.argv[1:]
TIME_KEYS = {"time_s", "seconds", "elapsed_s", "wall_s", "fit_seconds"}
# Aggregated curves are means on a grid of wall-clock times: they move with the timings.
TIMED = {"curves"}
def strip(v):
    if isinstance(v, dict):
        v = {k: x for k, x in v.items() if k not in TIMED}
        return {k: strip(x) for k, x in v.items() if k not in TIME_KEYS and not k.endswith("_s") and "time" not in k}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
def paths(v):
    # Paths of the two work folders differ only by old/new.
    return json.loads(json.dumps(v).replace(old, "ROOT").replace(new, "ROOT"))
def added_nulls(a, b, where=""):
    """Keys the new build adds with the value null (the run JSON may gain keys, never lose or
    rename one: a new optimizer's flags appear in every run's config as null); they are
    listed, then removed from b so that everything else must agree."""
    found = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(b):
            if k not in a and b[k] is None:
                found.append(where + "/" + k); del b[k]
            elif k in a:
                found += added_nulls(a[k], b[k], where + "/" + k)
    elif isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found += added_nulls(x, y, where)
    return found
added = set()
bad = 0; seen = 0
for root, _, files in os.walk(old):
    for f in sorted(files):
        a = os.path.join(root, f); b = a.replace(old, new, 1)
        rel = os.path.relpath(a, old)
        if not os.path.exists(b):
            print("missing in new:", rel); bad += 1; continue
        seen += 1
        if f.endswith(".json") or f.endswith(".jsonl"):
            la = [strip(paths(json.loads(l))) for l in open(a) if l.strip()] if f.endswith(".jsonl") else [strip(paths(json.load(open(a))))]
            lb = [strip(paths(json.loads(l))) for l in open(b) if l.strip()] if f.endswith(".jsonl") else [strip(paths(json.load(open(b))))]
            for x, y in zip(la, lb):
                added.update(added_nulls(x, y))
            if f.endswith(".jsonl"):
                key = lambda r: (r.get("optimizer"), r.get("split", {}).get("seed"))
                la.sort(key=key); lb.sort(key=key)
            if la != lb:
                print("differs:", rel); bad += 1
        elif f.endswith(".txt") and rel.split(os.sep)[0] in ("compare", "compare-auto") or f == "summary.txt":
            continue  # tables with a seconds column; their numbers are in the JSON compared
        elif f.endswith(".txt"):
            # Summaries print times; compare them with numbers of seconds removed.
            t = lambda p: re.sub(r"[0-9.]+ s\b", "S", open(p).read().replace(old, "ROOT").replace(new, "ROOT"))
            if t(a) != t(b):
                print("differs:", rel); bad += 1
        else:
            if open(a, "rb").read() != open(b, "rb").read():
                print("differs:", rel); bad += 1
if added:
    print("keys the new build adds (null):", ", ".join(sorted(added)))
print(f"{seen} outputs compared, {bad} differ")
sys.exit(1 if bad else 0)
PY
