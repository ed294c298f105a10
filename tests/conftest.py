import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # test helpers (netgen, event_reference) import by name

SHARED = TESTS.parents[1] / "shared"

# One torch thread per test process (torch reads this when it loads, on the
# first convolution): the suite runs one process per core (-n 2), and torch's
# default of one thread per core in each makes them spin against each other
# (several times slower on a busy machine), as OPENBLAS_NUM_THREADS=1 does for BLAS.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def shared_path(*parts) -> Path:
    """A file under ../shared, or skip the test saying what is missing."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the shared data sets/models are not beside this checkout)")
    return p


def require_torch():
    """The torch module; without it, skip, except in CI (``CI`` set), which must test the torch path.

    torch is optional for users (snnhw's convolution falls back to NumPy), but
    it is in the ``dev`` extra that ``make test`` installs, so in CI a missing
    torch is a broken setup: the test fails instead of skipping, and the
    PyTorch convolution path (the one the published figures used) cannot go
    unexercised unnoticed.
    """
    try:
        import torch
    except ImportError as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but torch is not installed ({e}): the dev extra pins torch==2.13.0 "
                        "so that CI exercises the PyTorch convolution path")
        pytest.skip("torch is not installed (optional: pip install torch==2.13.0); NumPy path only")
    return torch
