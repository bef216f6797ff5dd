import os
import shutil
import sys

import numpy as np
import pytest


@pytest.fixture(scope="session")
def anmin_bin():
    """The command line: $ANMIN_BIN (the Rust binary, as .ci/run sets it), else the `anmin`
    command that `pip install .` puts on the PATH (the same Rust code)."""
    beside = os.path.join(os.path.dirname(sys.executable), "anmin")
    path = os.environ.get("ANMIN_BIN") or shutil.which("anmin")
    if not path and os.path.exists(beside):
        path = beside
    if not path:
        pytest.skip("no anmin command: set ANMIN_BIN")
    return path


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 2] * X[:, 3] + 0.1 * rng.normal(size=300)
    return X, y
