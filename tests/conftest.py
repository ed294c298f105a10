import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # test helpers (netgen, event_reference) import by name

SHARED = TESTS.parents[1] / "shared"


def shared_path(*parts) -> Path:
    """A file under ../shared, or skip the test saying what is missing."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the shared data sets/models are not beside this checkout)")
    return p
