"""anmin: two-layer ReLU regression networks and classifiers trained by ANMIN, the alternating analytic
solver of A. Barbu, "Training a Two Layer ReLU Network Analytically" (Sensors, 2023), as a
scikit-learn estimator on the same native engine as the `anmin` command line."""

from typing import TYPE_CHECKING

from ._native import __version__

__all__ = ["ANMINClassifier", "ANMINRegressor", "load_model", "__version__"]

if TYPE_CHECKING:
    from ._classifier import ANMINClassifier
    from ._estimator import ANMINRegressor, load_model


def __getattr__(name: str):
    # scikit-learn is imported on first use of the estimator, not by the `anmin` command.
    if name in ("ANMINRegressor", "load_model"):
        from . import _estimator

        return getattr(_estimator, name)
    if name == "ANMINClassifier":
        from . import _classifier

        return _classifier.ANMINClassifier
    raise AttributeError(f"module 'anmin' has no attribute {name!r}")
