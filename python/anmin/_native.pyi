"""Type stubs of the native module (src/python.rs)."""

from typing import Sequence, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

def fit(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    feature_names: Sequence[str],
    target_names: Sequence[str],
    request_json: str,
    n_threads: int,
) -> Tuple[str, str]:
    """Trains as `anmin train --test-frac 0` does; returns (model JSON, run JSON)."""

def predict(model_json: str, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The model's outputs (n × k) for encoded inputs (n × d), as `anmin predict`."""

def check_model(model_json: str) -> str:
    """Checks a model file's text; returns JSON {"features": [...], "targets": [...]}."""

def run_cli(argv: Sequence[str]) -> int:
    """Runs the `anmin` command line with argv (argv[0] is the program name); the exit code."""
