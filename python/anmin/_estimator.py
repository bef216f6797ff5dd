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

# The settings' description, as the library declares it (src/settings/): every setting's
# name, owner, type, range, default and help. The estimator's parameters, their defaults,
# which optimizer takes which, the mapping of older names (`max_iter`, `learning_rate`, …)
# and the parameter list of the docstring all come from it; its range checks are the
# library's own parser (`_native.parse_setting`), with the command line's messages.
SETTINGS: list = json.loads(_native.settings())


def _declarations(name: str) -> list:
    return [s for s in SETTINGS if s["name"] == name]


def _default(name: str) -> Any:
    """The parameter's default: the library's, or the estimator's own where the description
    gives one (`auto`: on, since an estimator is for prediction)."""
    return _declarations(name)[0]["python_default"]


def _takes(optimizer: str, name: str) -> bool:
    return any(s["optimizer"] == optimizer for s in _declarations(name))


def parameter_names() -> list:
    """The estimator's parameters as the description lists them: each setting offered to
    Python under its own name, the estimator's own names for the others (`random_state`,
    `n_threads`), and the older names kept as aliases."""
    names: list = []
    for s in SETTINGS:
        for name in [s["python_name"], *s["aliases"]]:
            if name is not None and name not in names:
                names.append(name)
    return names


# Older parameter names and the settings they stand for (`max_iter` is `iters` or `epochs`,
# whichever the optimizer takes).
_ALIASES: dict = {}
for _s in SETTINGS:
    for _alias in _s["aliases"]:
        _ALIASES.setdefault(_alias, [])
        if _s["name"] not in _ALIASES[_alias]:
            _ALIASES[_alias].append(_s["name"])
# The settings the estimator offers, by parameter name.
_OWN = {s["python_name"]: s["name"] for s in SETTINGS if s["python"] == "own"}


def _owned(values: dict, owner: str) -> dict:
    """The values of the Python parameters whose settings belong to `owner` (the network,
    the preprocessing), as the request's object of that name."""
    return {s["name"]: values[s["name"]] for s in SETTINGS
            if s["owner"] == owner and s["python"] == "param"}


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _text(kind: str, value: Any) -> str:
    """A parameter's value as the command line would spell it; anything of the wrong type
    becomes text the library's parser rejects (with its message)."""
    if kind == "count" and _is_int(value):
        return str(int(value))
    if kind in ("real", "real_or_word") and _is_real(value):
        try:
            return repr(float(value))
        except OverflowError:
            return str(value)
    if kind in ("choice", "real_or_word") and isinstance(value, str):
        return value
    if kind == "switch" and isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return repr(value)


def _parse(param: str, name: str, value: Any, owner: str = "ANMINRegressor") -> Any:
    """The setting `name`'s value (given as parameter `param` of estimator `owner`), checked
    by the library."""
    kind = _declarations(name)[0]["type"]
    try:
        return json.loads(_native.parse_setting(name, _text(kind, value)))
    except ValueError as e:
        raise ValueError(f"The '{param}' parameter of {owner} is invalid: {e}. "
                         f"Got {value!r} instead.") from None


class _ANMINBase(BaseEstimator):
    """What ANMINRegressor and ANMINClassifier share: the parameters (ANMINRegressor's
    signature, generated for the classifier), their checks into the run request, input
    validation, the native fit, the fitted model's attributes, pickling and model files."""

    # ---- parameters -> run request -------------------------------------------------------

    def _given(self, optimizer: str) -> dict:
        """Each setting's parameter and value, by setting name: the older names mapped to
        the settings they stand for (`max_iter` to this optimizer's step budget)."""
        given: dict = {}
        for s in SETTINGS:
            if s["python"] == "param" and s["name"] not in given:
                given[s["name"]] = (s["name"], getattr(self, s["name"]))
        for alias, names in _ALIASES.items():
            value = getattr(self, alias)
            if value is None:
                continue
            taken = [n for n in names if _takes(optimizer, n)] or names[:1]
            name = taken[0]
            if given[name][1] is not None:
                raise ValueError(f"The '{alias}' and '{name}' parameters of "
                                 f"{type(self).__name__} are the same setting; give one of "
                                 f"them")
            given[name] = (alias, value)
        return given

    def _check_params(self) -> dict:
        """The run request (the library's `TrainRequest` as JSON), every parameter checked
        against the settings' description: only the settings given; the library's defaults
        fill in the rest."""
        owner = type(self).__name__
        optimizer = _parse("optimizer", "optimizer", self.optimizer, owner)
        values: dict = {}
        settings: dict = {}
        for name, (param, value) in self._given(optimizer).items():
            declared = _declarations(name)
            of_optimizer = declared[0]["optimizer"] is not None
            if value is None and name == "clip":
                value = "none"
            if value is None and (of_optimizer or declared[0]["default"] is None):
                continue
            parsed = _parse(param, name, value, owner)
            if of_optimizer:
                if not _takes(optimizer, name):
                    raise ValueError(f"The '{param}' parameter of {owner}: "
                                     f"{_native.not_taken(optimizer, name)}; leave it None")
                settings[name] = parsed
            else:
                values[name] = parsed
        own = {param: _parse(param, name, getattr(self, param), owner)
               for param, name in _OWN.items() if getattr(self, param) is not None}
        request = {
            "split": {
                "test_frac": 0.0,
                "seed": own.get("random_state", 0),
                "val_frac": values.get("val_frac"),
                "clip": values["clip"],
            },
            "network": _owned(values, "network"),
            "preprocess": _owned(values, "preprocess"),
            "optimizer": optimizer,
            "settings": settings,
            "auto": values["auto"],
            "ridge": values.get("ridge"),
            "bag": values.get("bag"),
            "max_seconds": values.get("max_seconds"),
        }
        # What no single parameter shows: the variant's own settings, `ridge="auto"` with
        # no validation rows, `mu_max` below `mu`.
        try:
            _native.check_request(json.dumps(request))
        except ValueError as e:
            raise ValueError(f"{owner}: {e}") from None
        return request

    # ---- fit -----------------------------------------------------------------------------

    def _validate(self, X, y="no_validation", reset: bool = True, y_numeric: bool = True):
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
        kwargs.update(multi_output=y_numeric, y_numeric=y_numeric)
        if _validate_data is not None:
            return _validate_data(self, X, y, reset=reset, **kwargs)
        return self._validate_data(X, y, reset=reset, **kwargs)  # pragma: no cover

    def fit(self, X, y):
        """Trains on every row of X. Ctrl-C stops training after the current step and raises
        KeyboardInterrupt; the estimator is then left as it was before `fit`."""
        request = self._check_params()
        before = dict(self.__dict__)
        try:
            return self._fit(X, y, request)
        except BaseException:
            # An error or Ctrl-C leaves the estimator as it was (validation had already set
            # n_features_in_ and feature_names_in_).
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _native_fit(self, X, Y, request: dict, targets: tuple) -> tuple:
        """Trains on X and the 2-D targets Y through the native module: `targets` is the
        target names and, for a classifier, its classes. The model file and the run JSON."""
        feature_names = getattr(self, "feature_names_in_", None)
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(X.shape[1])]
        _unique(feature_names, "feature")
        target_names, classes = targets
        _unique(target_names, "target")
        model_json, report_json = _native.fit(
            X, np.asarray(Y, dtype=np.float64),
            ([str(f) for f in feature_names], [str(t) for t in target_names], classes),
            json.dumps(request), int(self.n_threads), self._max_memory())
        return model_json, json.loads(report_json)

    def _max_memory(self) -> Optional[float]:
        if self.max_memory is None:
            return None
        return float(_parse("max_memory", "max_memory", self.max_memory, type(self).__name__))

    def _set_fitted(self, model_json: str, report: Optional[dict], y_1d: bool) -> None:
        model = json.loads(model_json)
        self._model_json = model_json
        self._native_model = _native.Model(model_json)
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
            self.bagging_ = report.get("bagging")
            self.solver_ = report.get("solver")
        else:
            training = model.get("training") or {}
            self.history_ = None
            self.loss_curve_ = None
            self.n_iter_ = training.get("iter")
            self.best_loss_ = training.get("train_mse")
            self.stop_reason_ = None
            self.selection_ = None
            self.bagging_ = None
            self.solver_ = None

    # The native model is rebuilt from the model file, which is the pickled state.
    def __getstate__(self):
        # A copy: object.__getstate__ may return the instance's own __dict__.
        state = dict(super().__getstate__())
        state.pop("_native_model", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_model_json" in self.__dict__:
            self._native_model = _native.Model(self._model_json)

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
        # Whole or not at all, as the CLI writes files, and with the mode a new file gets
        # (0666 less the umask), not mkstemp's private 0600.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".anmin-model-")
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


class ANMINRegressor(RegressorMixin, _ANMINBase):
    """A two-layer ReLU regression network trained by ANMIN (or SGD, Adam, LBFGS, LM).

    f(x) = B σ(A [x; 1]) + b0 on standardized inputs, trained on all rows of X exactly as
    ``anmin train --test-frac 0 --auto`` trains on the same numbers.

    The defaults are for prediction (``auto=True``, the command line's ``--auto``): the
    penalty and iteration count chosen on held-out rows (``ridge="auto"``), and ten networks
    trained on ten folds and averaged (five above 2000 rows of X), each stopping early on its
    own fold; ANMIN
    runs 10 iterations unless ``iters`` says otherwise. Each of these given explicitly wins.
    The paper's objective, the deepest training optimum with no penalty and one network, is
    ``auto=False`` (``anmin train``'s default). With ``bag`` above 1 the fitted network is
    the members stacked into one wider network (``bag * hidden`` units, output weights
    divided by ``bag``), which predicts their mean.

    X may hold NaN (missing values, not infinities): each feature's NaN is imputed with its
    median over the training rows, and a 0/1 missing indicator is added for each feature
    that had a NaN in training, as ``anmin train`` does with empty cells. At predict time a
    NaN in a feature that had none in training is imputed too, with a ``UserWarning``.

    Every training setting of the command line is a parameter of the same name (``--a-solver``
    is ``a_solver``); the parameters below are generated from the library's description of
    the settings. Settings of an optimizer default to None: that optimizer's own default.
    Older names are kept as aliases: ``max_iter`` (``iters`` or ``epochs``, whichever the
    optimizer takes), ``learning_rate`` (``lr``), ``lbfgs_history`` (``history``) and
    ``validation_fraction`` (``val_frac``); giving both names of one setting is an error.

    Parameters
    ----------
    PARAMETERS

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
        Under ``ridge="auto"`` with one network: the chosen penalty, steps and path.
    bagging_ : dict or None
        With ``bag`` above 1: the folds and each member's penalty, steps and validation MSE,
        and ``cv_mse``, their mean (a cross-validated estimate of one member's test MSE).
    solver_ : dict or None
        ANMIN's A-step report.
    run_report_ : dict
        The whole run JSON, as ``anmin train --out`` writes it.
    hidden_weights_ : ndarray of shape (bag * hidden, n_inputs + 1)
        A, on standardized inputs (the features, then any missing indicators and integer
        levels); the last column is the hidden bias.
    output_weights_ : ndarray of shape (n_outputs, bag * hidden)
    output_bias_ : ndarray of shape (n_outputs,)
    """

    def __init__(
        self,
        hidden: int = _default("hidden"),
        alpha: float = _default("alpha"),
        init: str = _default("init"),
        scaling: str = _default("scaling"),
        one_hot_integers: int = _default("one_hot_integers"),
        one_hot_few: int = _default("one_hot_few"),
        optimizer: str = _default("optimizer"),
        auto: bool = _default("auto"),
        iters: Optional[int] = None,
        epochs: Optional[int] = None,
        ridge: Union[float, str, None] = _default("ridge"),
        bag: Optional[int] = _default("bag"),
        val_frac: Optional[float] = None,
        clip: Union[float, str, None] = _default("clip"),
        max_seconds: Optional[float] = None,
        random_state: Optional[int] = None,
        n_threads: int = 1,
        max_memory: Optional[float] = None,
        variant: Optional[str] = None,
        step: Optional[str] = None,
        refine: Optional[int] = None,
        tol: Optional[float] = None,
        a_solver: Optional[str] = None,
        a_sample_factor: Optional[int] = None,
        a_sample: Optional[str] = None,
        cg_tol: Optional[float] = None,
        lr: Optional[float] = None,
        momentum: Optional[float] = None,
        batch_size: Optional[int] = None,
        history: Optional[int] = None,
        mu: Optional[float] = None,
        mu_dec: Optional[float] = None,
        mu_inc: Optional[float] = None,
        mu_max: Optional[float] = None,
        damping: Optional[str] = None,
        max_iter: Optional[int] = None,
        learning_rate: Optional[float] = None,
        lbfgs_history: Optional[int] = None,
        validation_fraction: Optional[float] = None,
    ) -> None:
        self.hidden = hidden
        self.alpha = alpha
        self.init = init
        self.scaling = scaling
        self.one_hot_integers = one_hot_integers
        self.one_hot_few = one_hot_few
        self.optimizer = optimizer
        self.auto = auto
        self.iters = iters
        self.epochs = epochs
        self.ridge = ridge
        self.bag = bag
        self.val_frac = val_frac
        self.clip = clip
        self.max_seconds = max_seconds
        self.random_state = random_state
        self.n_threads = n_threads
        self.max_memory = max_memory
        self.variant = variant
        self.step = step
        self.refine = refine
        self.tol = tol
        self.a_solver = a_solver
        self.a_sample_factor = a_sample_factor
        self.a_sample = a_sample
        self.cg_tol = cg_tol
        self.lr = lr
        self.momentum = momentum
        self.batch_size = batch_size
        self.history = history
        self.mu = mu
        self.mu_dec = mu_dec
        self.mu_inc = mu_inc
        self.mu_max = mu_max
        self.damping = damping
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.lbfgs_history = lbfgs_history
        self.validation_fraction = validation_fraction

    def fit(self, X, y) -> "ANMINRegressor":
        """Trains on every row of X (numeric; float64 or float32; C or Fortran order) and
        y (1-D, or 2-D for several outputs). Ctrl-C stops training after the current step
        and raises KeyboardInterrupt; the estimator is then left as it was before `fit`."""
        return super().fit(X, y)

    def _fit(self, X, y, request: dict) -> "ANMINRegressor":
        target_names = _target_names(y)
        X, y = self._validate(X, y, reset=True)
        y = np.asarray(y, dtype=np.float64)
        y_1d = y.ndim == 1
        y2 = y.reshape(-1, 1) if y_1d else y
        if y2.shape[1] == 0:
            raise ValueError("y has 0 outputs; at least 1 is required.")
        if target_names is None or len(target_names) != y2.shape[1]:
            target_names = ["y"] if y_1d else [f"y{j}" for j in range(y2.shape[1])]
        model_json, report = self._native_fit(X, y2, request, (target_names, None))
        self._set_fitted(model_json, report, y_1d)
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions with the model's standardization and clipping, as `anmin predict`."""
        check_is_fitted(self, "_model_json")
        X = self._validate(X, reset=False)
        out = self._native_model.predict(X)
        return out[:, 0] if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.allow_nan = True
        return tags

    def _more_tags(self):  # pragma: no cover - scikit-learn < 1.6
        return {"allow_nan": True, "multioutput": True}


def _umask() -> int:
    """The process's umask: from /proc where it is shown, else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
    """An `ANMINRegressor` (an `ANMINClassifier` for a classifier's file) that predicts with a model file written by
    ``anmin train --save-model`` or `ANMINRegressor.save_model`. Its inputs are the file's
    encoded features in order; models with categorical input columns need those encoded as
    the CLI does (one indicator column per category)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return _from_model_json(text)


def _from_model_json(text: str) -> ANMINRegressor:
    # The library validates the whole file (shapes, names, the training record: an object
    # or absent, `seed` a whole number up to 2**64 - 1, `bag` dividing the hidden units): a
    # bad file is a ValueError naming the problem, so what is read below is sound.
    native = _native.Model(text)
    model = json.loads(text)
    training = model.get("training") or {}
    # A bagged model is its members stacked: `bag` networks of hidden/bag units each.
    bag = training.get("bag", 1)
    classes = native.classes
    if classes is not None:
        from ._classifier import ANMINClassifier
        estimator = ANMINClassifier
    else:
        estimator = ANMINRegressor
    est = estimator(hidden=len(model["hidden_weights"]) // bag, alpha=model["alpha"], bag=bag)
    if training.get("seed") is not None:
        est.random_state = training["seed"]
    names = native.features
    est.n_features_in_ = len(names)
    if names != [f"x{j}" for j in range(len(names))]:
        est.feature_names_in_ = np.asarray(names, dtype=object)
    if classes is not None:
        # The classes as the file writes them (text; numbers as numbers where all are).
        try:
            est.classes_ = np.asarray([float(c) for c in classes])
            if all(c.is_integer() for c in est.classes_):
                est.classes_ = est.classes_.astype(np.int64)
        except ValueError:
            est.classes_ = np.asarray(classes, dtype=object)
        est._set_fitted(text, None, False)
        return est
    # A model file does not say whether y was 1-D: one target predicts a 1-D array.
    est._set_fitted(text, None, len(native.targets) == 1)
    return est


def _parameters_doc() -> str:
    """The docstring's parameter list, from the settings' description."""
    import inspect
    lines = []
    defaults = inspect.signature(ANMINRegressor.__init__).parameters
    for param in parameter_names():
        if param in _OWN:
            name = _OWN[param]
        else:
            name = next(s["name"] for s in SETTINGS
                        if s["name"] == param or param in s["aliases"])
        declared = _declarations(name)
        first = declared[0]
        default = defaults[param].default
        lines.append(f"{param} : {first['type']} ({first['range']}), default={default!r}")
        if param != name and param not in _OWN:
            lines.append(f"    Alias of ``{name}``.")
            continue
        shown = "; ".join(
            f"{s['optimizer']}: {s['default_shown']}" if s["optimizer"] else s["default_shown"]
            for s in declared)
        lines.append(f"    {first['help']} (``{first['flag']}``; library default {shown}).")
    return "\n    ".join(lines)


ANMINRegressor.__doc__ = ANMINRegressor.__doc__.replace("PARAMETERS", _parameters_doc())
