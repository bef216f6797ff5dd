"""anmin: two-layer ReLU regression networks trained by ANMIN, the alternating analytic
solver of A. Barbu, "Training a Two Layer ReLU Network Analytically" (Sensors, 2023), as a
scikit-learn estimator on the same native engine as the `anmin` command line."""

from ._estimator import ANMINRegressor, load_model
from ._native import __version__

__all__ = ["ANMINRegressor", "load_model", "__version__"]
