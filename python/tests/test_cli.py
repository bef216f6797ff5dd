"""The Python package and the command line: the same network, and model files both ways."""

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import anmin
from anmin import ANMINRegressor


def write_csv(path, X, y):
    """Every float in full precision (repr round-trips), so the CLI reads the same numbers."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"x{j}" for j in range(X.shape[1])] + ["y"])
        for row, target in zip(X, y):
            w.writerow([repr(float(v)) for v in row] + [repr(float(target))])


def read_predictions(text):
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["predicted_y"]
    return np.array([float(r[0]) for r in rows[1:]])


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True)


@pytest.mark.parametrize("settings, flags", [
    # The estimator's defaults are the command line's --auto.
    ({}, ["--auto"]),
    # The paper's objective.
    ({"auto": False}, []),
    ({"auto": False, "optimizer": "adam", "max_iter": 20},
     ["--optimizer", "adam", "--epochs", "20"]),
    ({"auto": False, "ridge": "auto", "max_iter": 15}, ["--ridge", "auto", "--iters", "15"]),
    ({"auto": False, "bag": 3, "max_iter": 4, "init": "data"},
     ["--bag", "3", "--iters", "4", "--init", "data"]),
    ({"ridge": 1e-3, "bag": 2, "scaling": "robust"},
     ["--auto", "--ridge", "1e-3", "--bag", "2", "--scaling", "robust"]),
])
def test_cli_and_python_train_the_same_network(anmin_bin, regression_data, tmp_path,
                                                settings, flags):
    X, y = regression_data
    seed = 7
    data, model = tmp_path / "d.csv", tmp_path / "m.json"
    write_csv(data, X, y)
    run([anmin_bin, "train", "--data", str(data), "--test-frac", "0", "--seed", str(seed),
         "--hidden", "16", "--threads", "1", "--save-model", str(model), "--quiet", *flags])
    cli = anmin.load_model(model)
    est = ANMINRegressor(hidden=16, random_state=seed, **settings).fit(X, y)
    # Bit for bit: the same weights and the same predictions.
    np.testing.assert_array_equal(est.hidden_weights_, cli.hidden_weights_)
    np.testing.assert_array_equal(est.output_weights_, cli.output_weights_)
    np.testing.assert_array_equal(est.output_bias_, cli.output_bias_)
    np.testing.assert_array_equal(est.predict(X), cli.predict(X))


def test_model_files_move_both_ways(anmin_bin, regression_data, tmp_path):
    X, y = regression_data
    data = tmp_path / "d.csv"
    write_csv(data, X, y)
    # Python -> CLI.
    est = ANMINRegressor(hidden=8, max_iter=5).fit(X, y)
    est.save_model(tmp_path / "py.json")
    out = run([anmin_bin, "predict", "--model", str(tmp_path / "py.json"), "--data", str(data)])
    np.testing.assert_array_equal(read_predictions(out.stdout), est.predict(X))
    # CLI -> Python.
    run([anmin_bin, "train", "--data", str(data), "--hidden", "8", "--iters", "5",
         "--save-model", str(tmp_path / "cli.json"), "--quiet"])
    out = run([anmin_bin, "predict", "--model", str(tmp_path / "cli.json"), "--data", str(data)])
    loaded = anmin.load_model(tmp_path / "cli.json")
    np.testing.assert_array_equal(loaded.predict(X), read_predictions(out.stdout))


def test_console_script_exit_codes(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "anmin")
    if not os.path.exists(script):
        pytest.skip("the package's console script is not installed beside this Python")
    assert subprocess.run([script, "--version"], capture_output=True).returncode == 0
    bad = subprocess.run([script, "train", "--no-such-flag"], capture_output=True)
    assert bad.returncode == 2
    missing = subprocess.run([script, "train", "--data", str(tmp_path / "none.csv")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "error:" in missing.stderr


INTERRUPTED_FIT = textwrap.dedent("""
    import sys
    import numpy as np
    from sklearn.utils.validation import check_is_fitted
    from sklearn.exceptions import NotFittedError
    from anmin import ANMINRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 8))
    y = np.sin(X).sum(axis=1)
    est = ANMINRegressor(hidden=48, max_iter=100000, tol=0.0)
    print("fitting", flush=True)
    try:
        est.fit(X, y)
    except KeyboardInterrupt:
        try:
            check_is_fitted(est)
        except NotFittedError:
            print("interrupted, unfitted", flush=True)
            sys.exit(0)
        print("interrupted, but fitted", flush=True)
        sys.exit(1)
    print("finished without interruption", flush=True)
    sys.exit(1)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_interrupts_fit(tmp_path):
    script = tmp_path / "fit.py"
    script.write_text(INTERRUPTED_FIT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "fitting"
    time.sleep(1.5)  # well inside the fit: numpy is loaded, training has started
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert out.strip() == "interrupted, unfitted"
    # After the current step: well under a second here.
    assert time.monotonic() - sent < 10
