"""Hostile values and files through the Python estimator (issue 25): a fit that would not fit
in memory, a bad model file, huge numbers and every parameter at the edges of its type give
a ValueError or TypeError naming the parameter, never a crash or another exception; model
files are written with the user's umask."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from anmin import ANMINRegressor, load_model
from anmin._estimator import SETTINGS


def _small(regression_data, n=40):
    X, y = regression_data
    return X[:n], y[:n]


def test_a_fit_that_would_not_fit_in_memory_is_a_value_error_naming_hidden(regression_data):
    X, y = _small(regression_data)
    with pytest.raises(ValueError, match=r"hidden 1000000 on 40 rows × 4 features .* bytes"):
        ANMINRegressor(hidden=1_000_000, auto=False, iters=1).fit(X, y)


def test_max_memory_is_a_parameter_checked_and_applied(regression_data):
    X, y = _small(regression_data)
    with pytest.raises(ValueError, match="the limit set by max_memory"):
        ANMINRegressor(hidden=64, auto=False, iters=1, max_memory=1e4).fit(X, y)
    with pytest.raises(ValueError, match="'max_memory' parameter"):
        ANMINRegressor(max_memory=-1).fit(X, y)
    ANMINRegressor(hidden=4, auto=False, iters=1, max_memory=1e9).fit(X, y)


def test_threads_beyond_the_cores_are_capped(regression_data):
    X, y = _small(regression_data)
    ANMINRegressor(hidden=4, auto=False, iters=2, n_threads=1024).fit(X, y)


def _model_text(regression_data, tmp_path):
    X, y = _small(regression_data)
    path = tmp_path / "m.json"
    ANMINRegressor(hidden=3, auto=False, iters=1).fit(X, y).save_model(path)
    return path.read_text()


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(training=[1, 2]), "training must be an object"),
    (lambda m: m["training"].update(seed=-5), "training.seed must be"),
    (lambda m: m["training"].update(seed=2**70), "training.seed must be"),
    (lambda m: m["training"].update(seed="7"), "training.seed must be"),
    (lambda m: m["encoding"]["inputs"][1].update(name=m["encoding"]["inputs"][0]["name"]),
     "appears twice"),
    (lambda m: m["encoding"].update(targets=[m["encoding"]["inputs"][0]["name"]]),
     "is also an input column"),
    (lambda m: m.pop("hidden_weights"), "hidden_weights"),
    (lambda m: m["training"].update(bag=0), "training.bag must be"),
    (lambda m: m["training"].update(bag=2), "training.bag must be"),
])
def test_a_bad_model_file_is_a_value_error(regression_data, tmp_path, edit, message):
    model = json.loads(_model_text(regression_data, tmp_path))
    edit(model)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(model))
    with pytest.raises(ValueError, match=re.escape(message)):
        load_model(path)


def test_a_good_model_file_keeps_its_seed(regression_data, tmp_path):
    model = json.loads(_model_text(regression_data, tmp_path))
    model["training"]["seed"] = 2**64 - 1
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(model))
    assert load_model(path).random_state == 2**64 - 1


def test_save_model_follows_the_umask(regression_data, tmp_path):
    X, y = _small(regression_data)
    est = ANMINRegressor(hidden=3, auto=False, iters=1).fit(X, y)
    old = os.umask(0o022)
    try:
        est.save_model(tmp_path / "a.json")
        os.umask(0o027)
        est.save_model(tmp_path / "b.json")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _no_long_number(text):
    digits = max((len(d) for d in re.findall(r"\d+", text)), default=0)
    assert digits < 25, text


def test_huge_numbers_in_messages_are_scientific(regression_data):
    X, y = _small(regression_data)
    with pytest.raises(ValueError) as e:
        ANMINRegressor(hidden=3, auto=False, iters=1).fit(X, y * 1e300)
    _no_long_number(str(e.value))
    assert "e300" in str(e.value) or "e+300" in str(e.value), str(e.value)
    with pytest.raises(ValueError) as e:
        ANMINRegressor(optimizer="lm", mu=1e308).fit(X, y)
    _no_long_number(str(e.value))
    assert "1e308" in str(e.value)


def _edges(setting):
    values = [0, 1, -1, 2**32, 2**63, 2**64, 2**64 + 5, True, "x", None, [1]]
    if setting["type"] == "count":
        values += [int(setting["high"]), int(setting["high"]) - 1]
    if setting["type"] in ("real", "real_or_word"):
        values += [math.nan, math.inf, -math.inf, 1e308, 5e-324, 0.5, np.float32(0.5)]
    return values


def test_every_parameter_at_the_edges_of_its_type(regression_data):
    """Only ValueError, TypeError or a fitted estimator; each fit tiny (2 hidden units, one
    step, at most a second) but in the parameter under test."""
    X, y = _small(regression_data, 30)
    numeric = [s for s in SETTINGS
               if s["python"] in ("param", "own")
               and s["type"] in ("count", "real", "real_or_word")]
    done = set()
    for s in numeric:
        param = s["python_name"]
        if param in done:
            continue
        done.add(param)
        optimizer = s["optimizer"] or "anmin"
        for value in _edges(s):
            params = dict(hidden=2, auto=False, optimizer=optimizer, max_seconds=1.0)
            budget = "epochs" if optimizer in ("sgd", "adam") else "iters"
            params[budget] = 1
            params[param] = value
            try:
                ANMINRegressor(**params).fit(X, y)
            except (ValueError, TypeError):
                pass


LONG_STEP_FIT = """
import sys, time
import numpy as np
from anmin import ANMINRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(1600, 11))
y = np.sin(X).sum(axis=1)
# Conjugate gradients asked for an unreachable tolerance: one A-step takes far longer than
# the grace period.
est = ANMINRegressor(hidden=2000, auto=False, a_solver="cg", cg_tol=1e-300, iters=5)
print("fitting", flush=True)
try:
    est.fit(X, y)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(0)
sys.exit(1)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_stops_a_fit_within_seconds_even_inside_a_long_step(tmp_path):
    script = tmp_path / "fit.py"
    script.write_text(LONG_STEP_FIT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "fitting"
    time.sleep(1.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.strip() == "interrupted", out
    assert time.monotonic() - sent < 5
