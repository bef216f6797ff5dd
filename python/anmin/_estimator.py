"""`ANMINRegressor`: the scikit-learn face of anmin's training engine.

The estimator holds no training logic. `fit` checks its parameters, turns them into the
library's run request (the same value `anmin train` builds from its flags), and hands the
arrays and the request to the native module, which trains exactly as the CLI does on the same
numbers with `--test-frac 0`. The fitted model is kept as the CLI's model file (a JSON
string), so pickling, `save_model` and `anmin predict` all see the same thing.
"""

from __future__ import annotations

import json
import numbers
import os
import tempfile
from typing import Any, Optional, Union

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _validate_data = None

from . import _native

OPTIMIZERS = ("anmin", "anmin-plain", "sgd", "adam", "lbfgs", "lm")
VARIANTS = ("safeguarded", "plain")
STEPS = ("halving", "search")
A_SOLVERS = ("auto", "cholesky", "cg", "dual", "sampled")
SCALINGS = ("standard", "robust")

# Which optimizer settings apply to which optimizer (as the CLI rejects a flag that applies
# to none of the chosen optimizers). Values: the setting's key in the run request.
_OPTIMIZER_SETTINGS = {
    "anmin": {"tol": "tol", "variant": "variant", "step": "step", "a_solver": "a_solver"},
    "anmin-plain": {"tol": "tol", "a_solver": "a_solver"},
    "sgd": {"learning_rate": "lr", "momentum": "momentum", "batch_size": "batch_size"},
    "adam": {"learning_rate": "lr", "batch_size": "batch_size"},
    "lbfgs": {"learning_rate": "lr", "lbfgs_history": "history"},
    "lm": {},
}
# The request's name of each optimizer's iteration count.
_ITERATIONS = {"anmin": "iters", "anmin-plain": "iters", "sgd": "epochs", "adam": "epochs",
               "lbfgs": "iters", "lm": "iters"}


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _invalid(name: str, value: Any, expected: str) -> ValueError:
    return ValueError(f"The '{name}' parameter of ANMINRegressor must be {expected}. "
                      f"Got {value!r} instead.")


def _check_int(name: str, value: Any, low: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not _is_int(value) or value < low:
        raise _invalid(name, value, f"an int >= {low}" + (" or None" if optional else ""))


def _check_real(name: str, value: Any, low: float, high: Optional[float] = None,
                low_open: bool = False, optional: bool = False) -> None:
    if value is None and optional:
        return
    ok = _is_real(value) and np.isfinite(value)
    if ok:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high
    if not ok:
        lo = "(" if low_open else "["
        hi = f"{high})" if high is not None else "inf)"
        raise _invalid(name, value, f"a float in {lo}{low}, {hi}" + (" or None" if optional else ""))


def _check_choice(name: str, value: Any, choices: tuple, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise _invalid(name, value, f"one of {listed}" + (" or None" if optional else ""))


class ANMINRegressor(RegressorMixin, BaseEstimator):
    """A two-layer ReLU regression network trained by ANMIN (or SGD, Adam, LBFGS).

    f(x) = B σ(A [x; 1]) + b0 on standardized inputs, trained on all rows of X exactly as
    ``anmin train --test-frac 0`` trains on the same numbers.

    X may hold NaN (missing values, not infinities): each feature's NaN is imputed with its
    median over the training rows, and a 0/1 missing indicator is added for each feature
    that had a NaN in training, as ``anmin train`` does with empty cells. At predict time a
    NaN in a feature that had none in training is imputed too, with a ``UserWarning``.

    Parameters
    ----------
    hidden : int, default=64
        Hidden units h (``--hidden``).
    alpha : float, default=0.0
        Leaky-ReLU slope for negative inputs, in [0, 1); 0 is ReLU (``--alpha``).
    optimizer : {"anmin", "anmin-plain", "sgd", "adam", "lbfgs"}, default="anmin"
        ``--optimizer``. "anmin-plain" is the paper's plain iteration.
    max_iter : int or None, default=None
        ANMIN or LBFGS iterations (``--iters``), or SGD / Adam epochs (``--epochs``).
        None: the optimizer's default (30 ANMIN, 100 LBFGS, 300 epochs).
    ridge : float or "auto", default=0.0
        Relative L2 penalty on A and B (``--ridge``); "auto" chooses it and the iteration
        count on validation rows held out of X, then refits on all of X.
    validation_fraction : float or None, default=None
        Fraction of X held out for early stopping (``--val-frac``). None: 0, or 0.2 under
        ``ridge="auto"``.
    clip : float, "none" or None, default=0.0
        At predict time, clip inputs to the training range widened by this margin times its
        width; "none" (or None) turns clipping off (``--clip``).
    tol : float or None, default=None
        ANMIN: converged when an iteration lowers the objective by less than this fraction
        (``--tol``; None: 1e-8).
    max_seconds : float or None, default=None
        Stop after this many seconds of training (``--max-seconds``).
    random_state : int or None, default=None
        Seed of the initial network and of every random draw (``--seed``). None means seed
        0: fits are always reproducible, and ``random_state=s`` gives the network
        ``anmin train --seed s`` gives.
    n_threads : int, default=1
        Threads for the linear algebra of one fit; 0 uses every core. The result does not
        depend on it. The default of one thread keeps ``GridSearchCV(n_jobs=...)`` from
        oversubscribing the machine.
    learning_rate : float or None, default=None
        SGD / Adam learning rate (1e-3) or LBFGS's initial step (1) (``--lr``).
    momentum : float or None, default=None
        SGD momentum (0.9) (``--momentum``).
    batch_size : int or None, default=None
        SGD / Adam mini-batch size (32) (``--batch-size``).
    lbfgs_history : int or None, default=None
        LBFGS curvature pairs kept (10) (``--history``).
    variant : {"safeguarded", "plain"} or None, default=None
        ANMIN variant (``--variant``; None: safeguarded).
    step : {"halving", "search"} or None, default=None
        Safeguarded ANMIN's step rule (``--step``; None: halving).
    a_solver : {"auto", "cholesky", "cg", "dual", "sampled"} or None, default=None
        ANMIN's A-step solver (``--a-solver``; None: auto).
    scaling : {"standard", "robust"}, default="standard"
        Feature scaling fitted on the training rows (``--scaling``): mean and standard
        deviation, or median and interquartile range followed by the smooth clip
        x / sqrt(1 + (x/3)^2) (RealMLP's), with 0/1 features left as they are.
    one_hot_integers : int, default=0
        Integer-valued features with 3 to this many distinct training values are also one-hot
        encoded, the number kept as a feature too (``--one-hot-integers``); 0 turns it off.
    one_hot_few : int, default=0
        Features with 3 to this many distinct training values, whole numbers or not, are also
        one-hot encoded, the number kept too (``--one-hot-few``); 0 turns it off.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when X was a DataFrame with string columns
    n_iter_ : int
        Iterations (epochs for SGD / Adam) run.
    history_ : list of dict
        One entry per iteration as in the run JSON (``pandas.DataFrame(est.history_)``).
    loss_curve_ : list of float
        Training MSE of each history entry (entry 0 is the initial network).
    best_loss_ : float
        Lowest training MSE of the run.
    stop_reason_ : str
        max_iters, max_seconds, converged, diverged, patience.
    selection_ : dict or None
        Under ``ridge="auto"``: the chosen penalty, steps and path.
    solver_ : dict or None
        ANMIN's A-step report.
    run_report_ : dict
        The whole run JSON, as ``anmin train --out`` writes it.
    hidden_weights_ : ndarray of shape (hidden, n_inputs + 1)
        A, on standardized inputs (the features, then any missing indicators and integer
        levels); the last column is the hidden bias.
    output_weights_ : ndarray of shape (n_outputs, hidden)
    output_bias_ : ndarray of shape (n_outputs,)
    """

    def __init__(
        self,
        hidden: int = 64,
        alpha: float = 0.0,
        optimizer: str = "anmin",
        max_iter: Optional[int] = None,
        ridge: Union[float, str] = 0.0,
        validation_fraction: Optional[float] = None,
        clip: Union[float, str, None] = 0.0,
        tol: Optional[float] = None,
        max_seconds: Optional[float] = None,
        random_state: Optional[int] = None,
        n_threads: int = 1,
        learning_rate: Optional[float] = None,
        momentum: Optional[float] = None,
        batch_size: Optional[int] = None,
        lbfgs_history: Optional[int] = None,
        variant: Optional[str] = None,
        step: Optional[str] = None,
        a_solver: Optional[str] = None,
        scaling: str = "standard",
        one_hot_integers: int = 0,
        one_hot_few: int = 0,
    ) -> None:
        self.hidden = hidden
        self.alpha = alpha
        self.optimizer = optimizer
        self.max_iter = max_iter
        self.ridge = ridge
        self.validation_fraction = validation_fraction
        self.clip = clip
        self.tol = tol
        self.max_seconds = max_seconds
        self.random_state = random_state
        self.n_threads = n_threads
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.lbfgs_history = lbfgs_history
        self.variant = variant
        self.step = step
        self.a_solver = a_solver
        self.scaling = scaling
        self.one_hot_integers = one_hot_integers
        self.one_hot_few = one_hot_few

    # ---- parameters -> run request -------------------------------------------------------

    def _check_params(self) -> None:
        _check_int("hidden", self.hidden, 1)
        _check_real("alpha", self.alpha, 0.0, 1.0)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_int("max_iter", self.max_iter, 1, optional=True)
        if not (isinstance(self.ridge, str) and self.ridge == "auto"):
            if isinstance(self.ridge, str) or not _is_real(self.ridge) or not (
                    np.isfinite(self.ridge) and self.ridge >= 0):
                raise _invalid("ridge", self.ridge, "a float >= 0 or 'auto'")
        _check_real("validation_fraction", self.validation_fraction, 0.0, 1.0, optional=True)
        if self.ridge == "auto" and self.validation_fraction == 0:
            raise ValueError("ridge='auto' chooses the penalty on validation rows: "
                             "validation_fraction must be above 0 (or None for 0.2)")
        if not (self.clip is None or (isinstance(self.clip, str) and self.clip == "none")):
            if isinstance(self.clip, str) or not _is_real(self.clip) or not (
                    np.isfinite(self.clip) and self.clip >= 0):
                raise _invalid("clip", self.clip, "a float >= 0, 'none' or None")
        _check_real("tol", self.tol, 0.0, optional=True)
        _check_real("max_seconds", self.max_seconds, 0.0, low_open=True, optional=True)
        _check_int("random_state", self.random_state, 0, optional=True)
        if self.random_state is not None and self.random_state >= 2**64:
            raise _invalid("random_state", self.random_state, "an int below 2**64 or None")
        _check_int("n_threads", self.n_threads, 0)
        _check_real("learning_rate", self.learning_rate, 0.0, low_open=True, optional=True)
        _check_real("momentum", self.momentum, 0.0, 1.0, optional=True)
        _check_int("batch_size", self.batch_size, 1, optional=True)
        _check_int("lbfgs_history", self.lbfgs_history, 1, optional=True)
        _check_choice("variant", self.variant, VARIANTS, optional=True)
        _check_choice("step", self.step, STEPS, optional=True)
        _check_choice("a_solver", self.a_solver, A_SOLVERS, optional=True)
        _check_choice("scaling", self.scaling, SCALINGS)
        _check_int("one_hot_integers", self.one_hot_integers, 0)
        _check_int("one_hot_few", self.one_hot_few, 0)
        applicable = _OPTIMIZER_SETTINGS[self.optimizer]
        for name in ("tol", "variant", "step", "a_solver", "learning_rate", "momentum",
                     "batch_size", "lbfgs_history"):
            if getattr(self, name) is not None and name not in applicable:
                raise ValueError(f"The '{name}' parameter of ANMINRegressor does not apply to "
                                 f"optimizer={self.optimizer!r}; leave it None")
        if self.optimizer == "anmin" and self.variant == "plain" and self.step is not None:
            raise ValueError("The 'step' parameter of ANMINRegressor applies to the "
                             "safeguarded variant only; leave it None with variant='plain'")

    def _request(self) -> dict:
        """The run request (the library's `TrainRequest` as JSON): only the settings given;
        the library's defaults fill in the rest."""
        name = self.optimizer
        settings: dict = {}
        if self.max_iter is not None:
            settings[_ITERATIONS[name]] = int(self.max_iter)
        for param, key in _OPTIMIZER_SETTINGS[name].items():
            value = getattr(self, param)
            if value is not None:
                settings[key] = value.item() if isinstance(value, np.generic) else value
        clip = "none" if self.clip is None or self.clip == "none" else float(self.clip)
        val = self.validation_fraction
        return {
            "split": {
                "test_frac": 0.0,
                "seed": 0 if self.random_state is None else int(self.random_state),
                "val_frac": None if val is None else float(val),
                "clip": clip,
            },
            "network": {"hidden": int(self.hidden), "alpha": float(self.alpha)},
            "optimizer": name,
            "settings": settings,
            "ridge": "auto" if self.ridge == "auto" else float(self.ridge),
            "max_seconds": None if self.max_seconds is None else float(self.max_seconds),
            "preprocess": {"scaling": self.scaling,
                           "one_hot_integers": int(self.one_hot_integers),
                           "one_hot_few": int(self.one_hot_few)},
        }

    # ---- fit / predict -------------------------------------------------------------------

    def _validate(self, X, y="no_validation", reset: bool = True):
        # NaN in X is a missing value (imputed by the model); infinities are rejected.
        # scikit-learn checks y finite whatever this says.
        kwargs = dict(dtype=np.float64, order=None)
        if _validate_data is not None:
            kwargs["ensure_all_finite"] = "allow-nan"
        else:  # pragma: no cover - scikit-learn < 1.6
            kwargs["force_all_finite"] = "allow-nan"
        if isinstance(y, str) and y == "no_validation":
            if _validate_data is not None:
                return _validate_data(self, X, reset=reset, **kwargs)
            return self._validate_data(X, reset=reset, **kwargs)  # pragma: no cover
        kwargs.update(multi_output=True, y_numeric=True)
        if _validate_data is not None:
            return _validate_data(self, X, y, reset=reset, **kwargs)
        return self._validate_data(X, y, reset=reset, **kwargs)  # pragma: no cover

    def fit(self, X, y) -> "ANMINRegressor":
        """Trains on every row of X (numeric; float64 or float32; C or Fortran order) and
        y (1-D, or 2-D for several outputs). Ctrl-C stops training after the current step
        and raises KeyboardInterrupt; the estimator is then left as it was before `fit`."""
        self._check_params()
        before = dict(self.__dict__)
        try:
            return self._fit(X, y)
        except BaseException:
            # An error or Ctrl-C leaves the estimator as it was (validation had already set
            # n_features_in_ and feature_names_in_).
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y) -> "ANMINRegressor":
        target_names = _target_names(y)
        X, y = self._validate(X, y, reset=True)
        y = np.asarray(y, dtype=np.float64)
        y_1d = y.ndim == 1
        y2 = y.reshape(-1, 1) if y_1d else y
        if y2.shape[1] == 0:
            raise ValueError("y has 0 outputs; at least 1 is required.")
        if target_names is None or len(target_names) != y2.shape[1]:
            target_names = ["y"] if y_1d else [f"y{j}" for j in range(y2.shape[1])]
        feature_names = getattr(self, "feature_names_in_", None)
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(X.shape[1])]
        _unique(feature_names, "feature")
        _unique(target_names, "target")
        model_json, report_json = _native.fit(
            X, np.asarray(y2, dtype=np.float64), [str(f) for f in feature_names],
            [str(t) for t in target_names], json.dumps(self._request()), int(self.n_threads))
        self._set_fitted(model_json, json.loads(report_json), y_1d)
        return self

    def _set_fitted(self, model_json: str, report: Optional[dict], y_1d: bool) -> None:
        model = json.loads(model_json)
        self._model_json = model_json
        self._y_1d = y_1d
        self.hidden_weights_ = np.asarray(model["hidden_weights"], dtype=np.float64)
        self.output_weights_ = np.asarray(model["output_weights"], dtype=np.float64)
        self.output_bias_ = np.asarray(model["output_bias"], dtype=np.float64)
        self.run_report_ = report
        if report is not None:
            self.history_ = report["history"]
            self.loss_curve_ = [e["train_mse"] for e in self.history_]
            self.n_iter_ = int(self.history_[-1]["iter"])
            self.best_loss_ = report["best"]["train_mse"]
            self.stop_reason_ = report["stop_reason"]
            self.selection_ = report.get("selection")
            self.solver_ = report.get("solver")
        else:
            training = model.get("training") or {}
            self.history_ = None
            self.loss_curve_ = None
            self.n_iter_ = training.get("iter")
            self.best_loss_ = training.get("train_mse")
            self.stop_reason_ = None
            self.selection_ = None
            self.solver_ = None

    def predict(self, X) -> np.ndarray:
        """Predictions with the model's standardization and clipping, as `anmin predict`."""
        check_is_fitted(self, "_model_json")
        X = self._validate(X, reset=False)
        out = _native.predict(self._model_json, X)
        return out[:, 0] if self._y_1d else out

    # ---- model files ---------------------------------------------------------------------

    @property
    def model_json_(self) -> str:
        """The fitted model as the CLI's model file (``anmin train --save-model``)."""
        check_is_fitted(self, "_model_json")
        return self._model_json

    def save_model(self, path: Union[str, os.PathLike]) -> None:
        """Writes the CLI's model file: ``anmin predict --model PATH`` predicts with it."""
        text = self.model_json_
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        # Whole or not at all, as the CLI writes files.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".anmin-model-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.allow_nan = True
        return tags

    def _more_tags(self):  # pragma: no cover - scikit-learn < 1.6
        return {"allow_nan": True, "multioutput": True}


def _target_names(y) -> Optional[list]:
    name = getattr(y, "name", None)
    if name is not None and not hasattr(y, "columns"):
        return [str(name)]
    columns = getattr(y, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    return None


def _unique(names, what: str) -> None:
    seen = set()
    for n in names:
        if str(n) in seen:
            raise ValueError(f"{what} name {n!r} appears twice")
        seen.add(str(n))


def load_model(path: Union[str, os.PathLike]) -> ANMINRegressor:
    """An `ANMINRegressor` that predicts with a model file written by
    ``anmin train --save-model`` or `ANMINRegressor.save_model`. Its inputs are the file's
    encoded features in order; models with categorical input columns need those encoded as
    the CLI does (one indicator column per category)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return _from_model_json(text)


def _from_model_json(text: str) -> ANMINRegressor:
    info = json.loads(_native.check_model(text))
    model = json.loads(text)
    est = ANMINRegressor(hidden=len(model["hidden_weights"]), alpha=model["alpha"])
    training = model.get("training") or {}
    if isinstance(training.get("seed"), int):
        est.random_state = training["seed"]
    names = info["features"]
    est.n_features_in_ = len(names)
    if names != [f"x{j}" for j in range(len(names))]:
        est.feature_names_in_ = np.asarray(names, dtype=object)
    targets = info["targets"]
    y_1d = training.get("y_1d")
    if y_1d is None:
        y_1d = len(targets) == 1
    est._set_fitted(text, None, bool(y_1d))
    return est
