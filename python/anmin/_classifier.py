"""`ANMINClassifier`: the same engine on class labels.

The network has one output per class and is trained with the square loss on the classes'
one-hot codes, exactly as ``anmin train`` trains on a text target (or with
``--task classify``) on the same numbers. The predicted class is the largest output; the
probabilities are a softmax of the outputs with a temperature fitted on rows the network did
not train on (each bag member's own fold under the default ``auto=True``).
"""

from __future__ import annotations

import inspect
import json

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._estimator import ANMINRegressor, _ANMINBase, _parameters_doc, _target_names

# The classifier's parameters are the regressor's, which the settings' description
# generates (see `_estimator.parameter_names`): the same names, defaults and order.
_PARAMETERS = [(name, p.default)
               for name, p in inspect.signature(ANMINRegressor.__init__).parameters.items()
               if name != "self"]


def _generated_init(parameters: list):
    """An ``__init__`` taking `parameters` (name, default) by name and storing each as is,
    as scikit-learn requires of an estimator; explicit in its signature, so that
    `get_params`, `clone` and the docs see every parameter."""
    args = ", ".join(f"{name}=_defaults[{i}]" for i, (name, _) in enumerate(parameters))
    body = "".join(f"    self.{name} = {name}\n" for name, _ in parameters) or "    pass\n"
    namespace = {"_defaults": [default for _, default in parameters]}
    exec(f"def __init__(self, {args}):\n{body}", namespace)  # noqa: S102 - names are ours
    init = namespace["__init__"]
    init.__doc__ = "Every parameter is stored as given; `fit` checks them."
    return init


def _label_text(label) -> str:
    """A class as the command line writes it in a model file: numbers as Rust writes them
    (3, not 3.0), anything else as its text."""
    if isinstance(label, (bool, np.bool_)):
        return str(bool(label))
    if isinstance(label, (int, np.integer)):
        return str(int(label))
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    return str(label)


class ANMINClassifier(ClassifierMixin, _ANMINBase):
    """A two-layer ReLU network classifier trained by ANMIN (or SGD, Adam, LBFGS, LM) with
    the square loss on one-hot targets, one output per class.

    Trained on all rows of X exactly as ``anmin train --test-frac 0 --auto`` trains on a
    table whose last column holds the labels. Labels may be strings, integers or booleans;
    ``classes_`` holds them sorted. ``predict`` gives the class of the largest output,
    ``predict_proba`` the softmax of the outputs divided by the fitted temperature
    (``temperature_``), ``decision_function`` the outputs (for two classes, the second
    output minus the first). Two classes take one output z, trained on the indicator of
    ``classes_[1]`` and read as the two outputs (1 - z, z): the same network as two outputs
    on the one-hot codes would be (up to the penalty's weight on B), at a fraction of the
    cost.

    X may hold NaN (missing values), imputed as ANMINRegressor imputes them.

    Parameters
    ----------
    PARAMETERS

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    temperature_ : float
        p = softmax(outputs / temperature_).
    n_features_in_, feature_names_in_, n_iter_, history_, loss_curve_, best_loss_,
    stop_reason_, selection_, bagging_, solver_, run_report_, hidden_weights_,
    output_weights_, output_bias_ : as ANMINRegressor's. Each history entry also has
        ``train_accuracy`` and ``train_log_loss``.
    """

    __init__ = _generated_init(_PARAMETERS)

    def fit(self, X, y) -> "ANMINClassifier":
        """Trains on every row of X (numeric) and the labels y (1-D)."""
        return super().fit(X, y)

    def _fit(self, X, y, request: dict) -> "ANMINClassifier":
        target = (_target_names(y) or ["y"])[:1]
        X, y = self._validate(X, y, reset=True, y_numeric=False)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"ANMINClassifier needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {classes[0]!r}")
        if len(classes) == 2:
            # Two classes: one output, the second class's indicator (as the command line).
            onehot = codes.reshape(-1, 1).astype(np.float64)
        else:
            onehot = np.zeros((len(codes), len(classes)))
            onehot[np.arange(len(codes)), codes] = 1.0
        labels = [_label_text(c) for c in classes]
        if len(set(labels)) != len(labels):
            raise ValueError(f"the classes {list(classes)!r} are not distinct as text")
        model_json, report = self._native_fit(X, onehot, request, (target, labels))
        self.classes_ = classes
        self._set_fitted(model_json, report, False)
        return self

    def _set_fitted(self, model_json: str, report, y_1d: bool) -> None:
        super()._set_fitted(model_json, report, y_1d)
        self.temperature_ = float(json.loads(model_json)["temperature"])

    def _outputs(self, X) -> np.ndarray:
        """The outputs one per class (two classes: the one output z as (1 - z, z))."""
        check_is_fitted(self, "_model_json")
        out = self._native_model.predict(self._validate(X, reset=False))
        return np.column_stack([1.0 - out[:, 0], out[:, 0]]) if out.shape[1] == 1 else out

    def decision_function(self, X) -> np.ndarray:
        """The network's outputs, one column per class (two classes: one column, the
        second class's output minus the first's, positive for ``classes_[1]``)."""
        out = self._outputs(X)
        return out[:, 1] - out[:, 0] if len(self.classes_) == 2 else out

    def predict(self, X) -> np.ndarray:
        """The class of the largest output of each row (the first on ties)."""
        out = self._outputs(X)  # first: an unfitted estimator raises NotFittedError
        return self.classes_[np.argmax(out, axis=1)]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, as ``anmin predict`` writes them: softmax(outputs /
        temperature_)."""
        check_is_fitted(self, "_model_json")
        return self._native_model.probabilities(self._validate(X, reset=False))

    def predict_log_proba(self, X) -> np.ndarray:
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _more_tags(self):  # pragma: no cover - scikit-learn < 1.6
        return {"allow_nan": True}


ANMINClassifier.__doc__ = ANMINClassifier.__doc__.replace("PARAMETERS", _parameters_doc())
