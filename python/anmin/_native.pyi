"""Type stubs of the native module (src/python.rs)."""

from typing import List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

def fit(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    names: Tuple[Sequence[str], Sequence[str], Optional[Sequence[str]]],
    request_json: str,
    n_threads: int,
    max_memory: Optional[float] = None,
) -> Tuple[str, str]:
    """Trains as `anmin train --test-frac 0` does; returns (model JSON, run JSON). With
    classes (the third of `names`), y holds their one-hot codes and `names[1]` is the one
    target's name."""

class Model:
    """A saved model, parsed once (the text of a model file)."""

    def __init__(self, model_json: str) -> None: ...
    def predict(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The model's outputs (n × k) for encoded inputs (n × d), as `anmin predict`."""
    def probabilities(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """A classifier's class probabilities (n × classes), as `anmin predict`."""
    @property
    def classes(self) -> Optional[List[str]]: ...
    @property
    def features(self) -> List[str]: ...
    @property
    def targets(self) -> List[str]: ...

def settings() -> str:
    """The settings' description as JSON: one object per declaration."""

def parse_setting(name: str, text: str) -> str:
    """The setting's value from its text, as JSON; ValueError with the CLI's message."""

def not_taken(optimizer: str, name: str) -> str:
    """The message for a setting the optimizer does not take."""

def check_request(request_json: str) -> None:
    """Checks a run request as `fit` takes it; ValueError with the library's message."""

def run_cli(argv: Sequence[str]) -> int:
    """Runs the `anmin` command line with argv (argv[0] is the program name); the exit code."""
