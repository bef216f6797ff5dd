"""ANMINClassifier: labels of every kind, probabilities, scikit-learn's tools, and the same
network as the command line trains on a text target."""

import csv
import pickle
import subprocess

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import anmin
from anmin import ANMINClassifier, ANMINRegressor

QUICK = dict(hidden=8, max_iter=5, bag=3)


@pytest.fixture
def three_classes():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0.4, "Gentoo",
                 np.where(X[:, 2] > 0, "Adelie", "Chinstrap"))
    return X, y


def test_the_parameters_are_the_regressors():
    assert ANMINClassifier().get_params() == ANMINRegressor().get_params()


@pytest.mark.parametrize("kind", ["str", "int", "bool", "float"])
def test_labels_of_every_kind(three_classes, kind):
    X, y = three_classes
    if kind == "int":
        y = np.unique(y, return_inverse=True)[1] * 3 - 2
    elif kind == "bool":
        y = y == "Gentoo"
    elif kind == "float":
        y = np.unique(y, return_inverse=True)[1] * 2.0  # whole numbers, as scikit-learn wants
    est = ANMINClassifier(**QUICK, random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.classes_, np.unique(y))
    pred = est.predict(X)
    assert pred.dtype == np.asarray(y).dtype
    assert set(pred) <= set(np.unique(y))
    assert est.score(X, y) > 0.8
    p = est.predict_proba(X)
    assert p.shape == (len(y), len(est.classes_))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # The class is the most probable one, and the largest decision value.
    np.testing.assert_array_equal(est.classes_[np.argmax(p, axis=1)], pred)
    decision = est.decision_function(X)
    if len(est.classes_) == 2:
        np.testing.assert_array_equal(est.classes_[(decision > 0).astype(int)], pred)
    else:
        np.testing.assert_array_equal(est.classes_[np.argmax(decision, axis=1)], pred)
    assert est.temperature_ > 0
    assert "train_accuracy" in est.history_[-1]


def test_one_class_is_an_error(three_classes):
    X, _ = three_classes
    with pytest.raises(ValueError, match="at least 2 classes"):
        ANMINClassifier(**QUICK).fit(X, np.full(len(X), "a"))


def test_continuous_targets_are_refused(three_classes):
    X, _ = three_classes
    with pytest.raises(ValueError, match="Unknown label type"):
        ANMINClassifier(**QUICK).fit(X, np.linspace(0, 1, len(X)))


def test_probabilities_are_calibrated_out_of_fold(three_classes):
    X, y = three_classes
    est = ANMINClassifier(hidden=8, random_state=0).fit(X[:180], y[:180])
    assert est.run_report_["classification"]["calibrated_on"] == "out_of_fold"
    # Better than the uninformed prior on held-out rows.
    prior = np.unique(y[:180], return_counts=True)[1] / 180
    uninformed = log_loss(y[180:], np.tile(prior, (60, 1)), labels=est.classes_)
    assert log_loss(y[180:], est.predict_proba(X[180:]), labels=est.classes_) < uninformed / 2
    assert accuracy_score(y[180:], est.predict(X[180:])) > 0.85


def test_pipeline_cross_validation_grid_search_and_pickle(three_classes):
    X, y = three_classes
    pipe = make_pipeline(StandardScaler(), ANMINClassifier(**QUICK, random_state=0))
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.8
    scores = cross_val_score(ANMINClassifier(**QUICK, random_state=0), X, y, cv=3,
                             scoring="neg_log_loss")
    assert scores.shape == (3,) and np.all(np.isfinite(scores)) and np.all(scores < 0)
    grid = GridSearchCV(ANMINClassifier(max_iter=3, bag=2, random_state=0),
                        {"hidden": [2, 8]}, cv=2, scoring="accuracy").fit(X, y)
    assert grid.best_params_["hidden"] in (2, 8)
    est = ANMINClassifier(**QUICK, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


def write_csv(path, X, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"x{j}" for j in range(X.shape[1])] + ["species"])
        for row, label in zip(X, y):
            w.writerow([repr(float(v)) for v in row] + [label])


@pytest.mark.parametrize("settings, flags", [
    ({}, ["--auto"]),
    ({"auto": False, "max_iter": 6}, ["--iters", "6"]),
    ({"auto": False, "ridge": "auto", "max_iter": 8}, ["--ridge", "auto", "--iters", "8"]),
])
def test_cli_and_python_train_the_same_classifier(anmin_bin, three_classes, tmp_path,
                                                  settings, flags):
    X, y = three_classes
    data, model = tmp_path / "d.csv", tmp_path / "m.json"
    write_csv(data, X, y)
    subprocess.run([anmin_bin, "train", "--data", str(data), "--test-frac", "0", "--seed", "7",
                    "--hidden", "16", "--threads", "1", "--save-model", str(model), "--quiet",
                    *flags], check=True, capture_output=True)
    cli = anmin.load_model(model)
    assert isinstance(cli, ANMINClassifier)
    est = ANMINClassifier(hidden=16, random_state=7, **settings).fit(X, y)
    # Bit for bit: the same weights, temperature, classes, predictions and probabilities.
    np.testing.assert_array_equal(est.hidden_weights_, cli.hidden_weights_)
    np.testing.assert_array_equal(est.output_weights_, cli.output_weights_)
    np.testing.assert_array_equal(est.output_bias_, cli.output_bias_)
    assert est.temperature_ == cli.temperature_
    np.testing.assert_array_equal(est.classes_, cli.classes_)
    np.testing.assert_array_equal(est.predict(X), cli.predict(X))
    # `anmin predict` writes the same classes and probabilities.
    out = subprocess.run([anmin_bin, "predict", "--model", str(model), "--data", str(data)],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["predicted_species"] + [f"p_{c}" for c in est.classes_]
    np.testing.assert_array_equal([r[0] for r in rows[1:]], est.predict(X))
    np.testing.assert_array_equal(np.array([[float(v) for v in r[1:]] for r in rows[1:]]),
                                  est.predict_proba(X))
    # And a Python model file predicts the same through the command line.
    est.save_model(tmp_path / "py.json")
    out = subprocess.run([anmin_bin, "predict", "--model", str(tmp_path / "py.json"), "--data",
                          str(data)], check=True, capture_output=True, text=True).stdout
    assert [r[0] for r in list(csv.reader(out.splitlines()))[1:]] == list(est.predict(X))
