"""ANMINRegressor where scikit-learn users put it, and its own conventions."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import anmin
from anmin import ANMINRegressor


def test_fit_predict_and_fitted_attributes(regression_data):
    X, y = regression_data
    # One network (the paper's objective): its history is its iterations.
    est = ANMINRegressor(hidden=16, max_iter=10, auto=False).fit(X, y)
    assert est.score(X, y) > 0.8
    assert est.n_features_in_ == 4
    assert est.n_iter_ == len(est.history_) - 1 <= 10
    assert est.loss_curve_ == [e["train_mse"] for e in est.history_]
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.stop_reason_ in ("max_iters", "converged")
    assert est.hidden_weights_.shape == (16, 5)
    assert est.output_weights_.shape == (1, 16)
    assert est.output_bias_.shape == (1,)
    assert est.selection_ is None and est.bagging_ is None
    assert est.predict(X).shape == (300,)
    frame = pd.DataFrame(est.history_)
    assert {"iter", "time_s", "train_mse", "train_r2"} <= set(frame.columns)


def test_the_defaults_are_the_prediction_preset(regression_data):
    X, y = regression_data
    est = ANMINRegressor(hidden=16).fit(X, y)
    config = est.run_report_["config"]
    assert (config["ridge"], config["bag"], config["iters"]) == ("auto", "auto", 10)
    # Ten members (300 rows: at most 2000), each choosing its penalty and steps on its own
    # fold of X.
    assert est.bagging_["folds"] == 10 and len(est.bagging_["members"]) == 10
    assert sum(m["n_val"] for m in est.bagging_["members"]) == X.shape[0]
    lambdas = est.bagging_["path"]["lambdas"]
    assert all(m["lambda"] in lambdas and m["steps"] >= 1 for m in est.bagging_["members"])
    # The history adds one member at a time; the model is the five stacked and averaged.
    assert [e["iter"] for e in est.history_] == list(range(11))
    assert est.hidden_weights_.shape == (10 * 16, 5)
    assert est.output_weights_.shape == (1, 10 * 16)
    assert est.score(X, y) > 0.8
    # The paper's objective trains deeper on X than the preset, which holds back to predict.
    deep = ANMINRegressor(hidden=16, auto=False).fit(X, y)
    assert deep.best_loss_ < est.loss_curve_[-1]


def test_layouts_and_dtypes_give_the_same_network(regression_data):
    X, y = regression_data
    base = ANMINRegressor(hidden=8, max_iter=5, random_state=2).fit(X, y).predict(X)
    # Fortran order, and a strided view of a wider array: the same numbers, the same network.
    wide = np.zeros((X.shape[0], 2 * X.shape[1]))
    wide[:, ::2] = X
    for variant in (np.asfortranarray(X), wide[:, ::2]):
        np.testing.assert_array_equal(
            ANMINRegressor(hidden=8, max_iter=5, random_state=2).fit(variant, y).predict(X), base)
    # float32 is converted to float64 (the values themselves change by rounding only).
    est32 = ANMINRegressor(hidden=8, max_iter=5).fit(X.astype(np.float32), y)
    assert est32.predict(X.astype(np.float32)).dtype == np.float64


def test_results_do_not_depend_on_threads(regression_data):
    X, y = regression_data
    one = ANMINRegressor(hidden=8, max_iter=5, n_threads=1).fit(X, y).predict(X)
    two = ANMINRegressor(hidden=8, max_iter=5, n_threads=2).fit(X, y).predict(X)
    np.testing.assert_array_equal(one, two)


def test_several_outputs(regression_data):
    X, y = regression_data
    Y = np.column_stack([y, -2 * y + 1])
    est = ANMINRegressor(hidden=8, max_iter=5).fit(X, Y)
    assert est.predict(X).shape == (300, 2)
    assert est.output_weights_.shape == (2, 10 * 8)


def test_dataframe_sets_feature_names(regression_data):
    X, y = regression_data
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = ANMINRegressor(hidden=8, max_iter=3).fit(df, pd.Series(y, name="target"))
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]
    assert est.run_report_["dataset"]["features"] == ["a", "b", "c", "d"]
    assert est.run_report_["dataset"]["targets"] == ["target"]


@pytest.mark.parametrize("name, value", [
    ("hidden", 0), ("hidden", 2.5), ("alpha", 1.0), ("optimizer", "newton"),
    ("max_iter", 0), ("ridge", -1.0), ("ridge", "best"), ("validation_fraction", 1.0),
    ("clip", -0.1), ("tol", -1.0), ("max_seconds", 0.0), ("random_state", -1),
    ("n_threads", -1), ("learning_rate", 0.0), ("variant", "fancy"), ("a_solver", "lu"),
])
def test_invalid_parameters_raise_naming_them(regression_data, name, value):
    X, y = regression_data
    est = ANMINRegressor(**{name: value})
    with pytest.raises(ValueError, match=name):
        est.fit(X, y)


def test_settings_of_another_optimizer_are_rejected(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="learning_rate"):
        ANMINRegressor(learning_rate=0.1).fit(X, y)
    with pytest.raises(ValueError, match="tol"):
        ANMINRegressor(optimizer="adam", tol=1e-3).fit(X, y)


@pytest.mark.parametrize("optimizer", ["anmin", "anmin-plain", "sgd", "adam", "lbfgs"])
def test_every_optimizer_fits(regression_data, optimizer):
    X, y = regression_data
    est = ANMINRegressor(hidden=8, optimizer=optimizer, max_iter=5).fit(X, y)
    assert est.run_report_["optimizer"] == optimizer
    assert np.isfinite(est.predict(X)).all()


def test_ridge_auto_reports_its_selection(regression_data):
    X, y = regression_data
    est = ANMINRegressor(hidden=8, max_iter=10, ridge="auto", auto=False).fit(X, y)
    assert est.selection_ is not None and "lambda" in est.selection_
    assert est.run_report_["config"]["ridge"] == "auto"


def test_bad_input_raises_value_error(regression_data):
    X, y = regression_data
    est = ANMINRegressor(hidden=4, max_iter=2)
    # NaN in X is a missing value (test_missing.py); infinity is not, nor NaN in y.
    Xn = X.copy()
    Xn[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.fit(Xn, y)
    yn = y.copy()
    yn[2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X, yn)
    with pytest.raises(ValueError):
        est.fit(X[:, 0], y)
    with pytest.raises(ValueError):
        est.fit(X[:10], y)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_pipeline_with_one_hot_encoding():
    rng = np.random.default_rng(1)
    n = 240
    df = pd.DataFrame({
        "colour": rng.choice(["red", "green", "blue"], size=n),
        "size": rng.normal(size=n),
        "weight": rng.uniform(1, 5, size=n),
    })
    y = df["size"] * 2 + (df["colour"] == "red") * 3 + np.log(df["weight"])
    pipe = Pipeline([
        ("encode", ColumnTransformer([("onehot", OneHotEncoder(), ["colour"])],
                                     remainder="passthrough", sparse_threshold=0)),
        ("net", ANMINRegressor(hidden=8, max_iter=10)),
    ])
    pipe.fit(df, y)
    assert pipe.score(df, y) > 0.9
    assert pipe[-1].n_features_in_ == 5


def test_cross_val_score(regression_data):
    X, y = regression_data
    scores = cross_val_score(ANMINRegressor(hidden=8, max_iter=10), X, y, cv=3)
    assert scores.shape == (3,) and (scores > 0.5).all()


def test_grid_search_in_parallel(regression_data):
    X, y = regression_data
    search = GridSearchCV(ANMINRegressor(max_iter=8),
                          {"hidden": [4, 8], "ridge": [0.0, 1e-3]}, cv=3, n_jobs=2)
    search.fit(X, y)
    assert set(search.best_params_) == {"hidden", "ridge"}
    assert search.best_estimator_.score(X, y) > 0.5


def test_pickle_and_joblib_round_trips(regression_data, tmp_path):
    X, y = regression_data
    est = ANMINRegressor(hidden=8, max_iter=5).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    joblib.dump(est, tmp_path / "est.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "est.joblib").predict(X), est.predict(X))
    assert again.history_ == est.history_


def test_save_and_load_model(regression_data, tmp_path):
    X, y = regression_data
    est = ANMINRegressor(hidden=8, max_iter=5).fit(X, y)
    est.save_model(tmp_path / "m.json")
    loaded = anmin.load_model(tmp_path / "m.json")
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.hidden_weights_, est.hidden_weights_)
    assert loaded.hidden == 8 and loaded.bag == 10 and loaded.n_features_in_ == 4
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="model"):
        anmin.load_model(tmp_path / "bad.json")
