"""Missing values (NaN in X) in Python and in the command line: the same network bit for bit,
imputation fitted on the training rows, and new missing values answered with a warning."""

import csv
import subprocess
import warnings

import numpy as np
import pytest

import anmin
from anmin import ANMINRegressor


def table():
    """A generated table: two numeric features with NaN, a complete one, and an ID-like
    integer feature (6 values) that carries most of the signal."""
    rng = np.random.default_rng(3)
    n = 240
    X = rng.normal(size=(n, 3))
    ids = rng.integers(0, 6, size=n)
    effect = np.array([0.0, 3.0, -2.0, 5.0, 1.0, -4.0])
    y = X[:, 0] - 0.5 * X[:, 1] ** 2 + effect[ids] + 0.05 * rng.normal(size=n)
    X = np.column_stack([X, ids.astype(float)])
    X[rng.random(n) < 0.1, 0] = np.nan
    X[rng.random(n) < 0.05, 2] = np.nan
    return X, y


def write_csv(path, X, y=None):
    """Full precision; NaN as an empty cell, as a spreadsheet writes it."""
    cell = lambda v: "" if np.isnan(v) else repr(float(v))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"x{j}" for j in range(X.shape[1])] + ([] if y is None else ["y"]))
        for i, row in enumerate(X):
            w.writerow([cell(v) for v in row] + ([] if y is None else [repr(float(y[i]))]))


def predictions(text):
    rows = list(csv.reader(text.splitlines()))
    return np.array([float(r[0]) for r in rows[1:]])


@pytest.mark.parametrize("settings, flags", [
    ({}, ["--auto"]),
    ({"auto": False, "scaling": "robust", "one_hot_integers": 10, "ridge": "auto",
      "max_iter": 12},
     ["--scaling", "robust", "--one-hot-integers", "10", "--ridge", "auto", "--iters", "12"]),
])
def test_nan_in_X_trains_the_network_the_cli_trains(anmin_bin, tmp_path, settings, flags):
    X, y = table()
    data, model = tmp_path / "d.csv", tmp_path / "m.json"
    write_csv(data, X, y)
    subprocess.run([anmin_bin, "train", "--data", str(data), "--test-frac", "0", "--seed", "4",
                    "--hidden", "16", "--threads", "1", "--save-model", str(model), "--quiet",
                    *flags], check=True, capture_output=True)
    cli = anmin.load_model(model)
    est = ANMINRegressor(hidden=16, random_state=4, **settings).fit(X, y)
    np.testing.assert_array_equal(est.hidden_weights_, cli.hidden_weights_)
    np.testing.assert_array_equal(est.output_weights_, cli.output_weights_)
    np.testing.assert_array_equal(est.output_bias_, cli.output_bias_)
    # Two missing indicators (features 0 and 2), and the ID's six levels when asked for.
    extra = 2 + (6 if settings else 0)
    members = 1 if settings else 10
    assert est.hidden_weights_.shape == (members * 16, 4 + extra + 1)
    ours = est.predict(X)
    assert np.all(np.isfinite(ours))
    np.testing.assert_array_equal(ours, cli.predict(X))
    out = subprocess.run([anmin_bin, "predict", "--model", str(model), "--data", str(data)],
                         check=True, capture_output=True, text=True)
    np.testing.assert_array_equal(predictions(out.stdout), ours)
    assert est.score(X, y) > 0.8


def test_new_missing_values_are_imputed_with_a_warning(anmin_bin, tmp_path):
    X, y = table()
    est = ANMINRegressor(hidden=8, max_iter=5).fit(X, y)
    new = X[:5].copy()
    new[:, 1] = np.nan  # feature 1 never missed in training
    new[0, 0] = np.nan  # feature 0 did: no warning for it
    with pytest.warns(UserWarning, match=r'column "x1": 5 rows with a missing value, which '
                                         r'the training rows never had there'):
        got = est.predict(new)
    assert np.all(np.isfinite(got))
    # Feature 0's missing value is what training saw: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(np.where(np.arange(4) == 0, np.nan, X[:5]))
    # The command line answers the same, and says so on stderr.
    model, rows = tmp_path / "m.json", tmp_path / "new.csv"
    est.save_model(model)
    write_csv(rows, new)
    out = subprocess.run([anmin_bin, "predict", "--model", str(model), "--data", str(rows)],
                         check=True, capture_output=True, text=True)
    np.testing.assert_array_equal(predictions(out.stdout), got)
    assert 'column "x1": 5 rows with a missing value' in out.stderr


def test_infinities_are_still_rejected():
    X, y = table()
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        ANMINRegressor(hidden=4, max_iter=2).fit(X, y)
    y_bad = y.copy()
    y_bad[0] = np.nan
    with pytest.raises(ValueError):
        ANMINRegressor(hidden=4, max_iter=2).fit(np.nan_to_num(X, posinf=0.0), y_bad)


def test_bad_preprocessing_parameters():
    X, y = table()
    with pytest.raises(ValueError, match="scaling"):
        ANMINRegressor(scaling="minmax").fit(X, y)
    with pytest.raises(ValueError, match="one_hot_integers"):
        ANMINRegressor(one_hot_integers=-1).fit(X, y)
