"""The settings' description, one for the command line, the library and Python: the
estimator's parameters are exactly its settings, and every value the library rejects is
rejected by the command line and by the estimator with the same message."""

import inspect
import math
import subprocess

import numpy as np
import pytest

from anmin import ANMINRegressor
from anmin import _native
from anmin._estimator import SETTINGS, parameter_names


def test_the_parameters_are_exactly_the_described_settings():
    described = set(parameter_names())
    # The estimator's own names for the seed and the threads, and every setting the
    # description offers to Python (with the older names as aliases).
    assert {"n_threads", "random_state"} <= described
    offered = {s["name"] for s in SETTINGS if s["python"] == "param"}
    aliases = {a for s in SETTINGS for a in s["aliases"]}
    assert described == offered | aliases | {"n_threads", "random_state"}
    signature = inspect.signature(ANMINRegressor.__init__).parameters
    assert set(signature) - {"self"} == described
    assert set(ANMINRegressor().get_params()) == described
    # Every flag of a training setting is a parameter of the same name.
    flags = {s["name"] for s in SETTINGS if s["flag"] and s["python"] == "param"}
    assert flags <= described
    for name in described:
        assert f"\n    {name} : " in ANMINRegressor.__doc__, name
    # Defaults of the network and the run are the library's, or the estimator's own where
    # the description declares one (auto: on).
    for name in ("hidden", "alpha", "init", "scaling", "optimizer", "auto", "ridge", "bag",
                 "clip"):
        assert signature[name].default == next(
            s["python_default"] for s in SETTINGS if s["name"] == name), name
    assert signature["auto"].default is True


def _out_of_range(s):
    """Values just outside the declared range, and absurd ones."""
    if s["type"] == "count":
        high = int(s["high"])
        values = [high + 1] + [v for v in (2**63, 2**64 + 5) if v > high]
        if s["low"] > 0:
            values.append(int(s["low"]) - 1)
        return values
    if s["type"] in ("real", "real_or_word"):
        values = [s["low"] if s["low_open"] else s["low"] - 1, math.nan]
        if s["high"] is not None:
            values.append(s["high"] if s["high_open"] else s["high"] + 1)
        return values
    return ["no-such-choice"]


def _cases():
    seen = set()
    for s in SETTINGS:
        if s["python"] == "absent" or not s["flag"] or s["name"] == "optimizer":
            continue
        if (s["name"], s["optimizer"]) in seen or s["name"] in {n for n, _ in seen}:
            continue
        seen.add((s["name"], s["optimizer"]))
        for value in _out_of_range(s):
            yield s, value


CASES = list(_cases())


def _cli_value(value):
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return str(value)


def _cli(anmin_bin, args):
    return subprocess.run([anmin_bin, *args], capture_output=True, text=True)


@pytest.mark.parametrize("setting, value", CASES,
                         ids=[f"{s['name']}={v}" for s, v in CASES])
def test_every_range_is_rejected_alike_by_the_cli_and_python(anmin_bin, setting, value,
                                                              regression_data):
    name, optimizer = setting["name"], setting["optimizer"] or "anmin"
    # The library's message (its parser, which the command line's flag uses).
    with pytest.raises(ValueError) as library:
        _native.parse_setting(name, _cli_value(value))
    message = str(library.value)
    assert message.startswith(f"{name} must be "), message
    if setting["type"] not in ("choice", "switch"):
        flag = setting["flag"]
        res = _cli(anmin_bin, ["train", "--optimizer", optimizer, f"{flag}={_cli_value(value)}"])
        assert res.returncode == 2, res.stderr
        assert message in res.stderr, res.stderr
    param = setting["python_name"]
    X, y = regression_data
    with pytest.raises(ValueError) as python:
        ANMINRegressor(optimizer=optimizer, **{param: value}).fit(X[:20], y[:20])
    assert message in str(python.value)
    assert f"'{param}'" in str(python.value)


@pytest.mark.parametrize("args, params, message", [
    # The plain variant takes no step rule, whichever way it is asked for.
    (["--variant", "plain", "--step", "search"], {"variant": "plain", "step": "search"},
     "step does not apply to optimizer anmin-plain (it applies to anmin)"),
    (["--optimizer", "lm", "--mu-max", "1e-4"], {"optimizer": "lm", "mu_max": 1e-4},
     "mu_max (0.0001) must be at least mu (0.001)"),
    (["--optimizer", "lm", "--mu-dec", "0"], {"optimizer": "lm", "mu_dec": 0.0},
     "mu_dec must be a number above 0 and below 1"),
    (["--optimizer", "lm", "--mu-inc", "1"], {"optimizer": "lm", "mu_inc": 1.0},
     "mu_inc must be a number above 1"),
    (["--alpha", "1"], {"alpha": 1.0}, "alpha must be a number at least 0 and below 1"),
    (["--hidden", str(2**63)], {"hidden": 2**63},
     "hidden must be a whole number from 1 to 1000000"),
    (["--iters", str(2**64 + 5)], {"max_iter": 2**64 + 5},
     "iters must be a whole number from 1 to 1000000000"),
    (["--optimizer", "adam", "--epochs", "0"], {"optimizer": "adam", "max_iter": 0},
     "epochs must be a whole number from 1 to 1000000000"),
    (["--threads", str(2**64 + 5)], {"n_threads": 2**64 + 5},
     "threads must be a whole number from 0 to 1024"),
    (["--seed=-1"], {"random_state": -1},
     "seed must be a whole number from 0 to 18446744073709551615"),
])
def test_the_drift_cases_agree(anmin_bin, regression_data, args, params, message):
    res = _cli(anmin_bin, ["train", *args])
    assert res.returncode == 2 and message in res.stderr, res.stderr
    X, y = regression_data
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ANMINRegressor(**params).fit(X[:20], y[:20])


@pytest.mark.parametrize("flag, value, message", [
    ("--rows", str(2**63), "rows must be a whole number from 1 to 1000000000"),
    ("--features", "0", "features must be a whole number from 1 to 100000"),
    ("--hidden", str(2**64 + 5), "hidden must be a whole number from 1 to 1000000"),
])
def test_gen_sizes_are_bounded(anmin_bin, tmp_path, flag, value, message):
    sizes = {"--rows": "10", "--features": "2", "--hidden": "2", flag: value}
    args = ["gen", "teacher", "--out", str(tmp_path / "t.csv")]
    args += [a for pair in sizes.items() for a in pair]
    res = _cli(anmin_bin, args)
    assert res.returncode == 2 and message in res.stderr, res.stderr


def test_older_names_still_work_and_both_names_are_an_error(regression_data):
    X, y = regression_data
    a = ANMINRegressor(hidden=4, optimizer="sgd", max_iter=3, learning_rate=0.01).fit(X, y)
    b = ANMINRegressor(hidden=4, optimizer="sgd", epochs=3, lr=0.01).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.run_report_["config"]["lr"] == 0.01
    with pytest.raises(ValueError, match="same setting"):
        ANMINRegressor(lr=0.1, learning_rate=0.1, optimizer="sgd").fit(X, y)


def test_every_cli_setting_reaches_the_run(regression_data):
    X, y = regression_data
    est = ANMINRegressor(hidden=4, optimizer="lm", iters=2, mu=0.01, mu_dec=0.2, mu_inc=5.0,
                         mu_max=1e8, damping="marquardt").fit(X, y)
    config = est.run_report_["config"]
    assert (config["mu"], config["mu_dec"], config["mu_inc"]) == (0.01, 0.2, 5.0)
    assert config["damping"] == "marquardt"
    est = ANMINRegressor(hidden=4, iters=2, refine=1, a_solver="sampled", a_sample_factor=2,
                         a_sample="fresh", cg_tol=1e-4).fit(X, y)
    config = est.run_report_["config"]
    assert (config["refine"], config["a_solver"], config["a_sample"]) == (1, "sampled", "fresh")
