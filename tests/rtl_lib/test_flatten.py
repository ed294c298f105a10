"""snn_flatten (snnhw/rtl_lib/snn_flatten.v): address flattening for several shapes; the parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_flatten", "snn_const_mul")
CASES = [dict(CHANNELS=3, ROWS=5, COLUMNS=7), dict(CHANNELS=16, ROWS=1, COLUMNS=1),
         dict(CHANNELS=1, ROWS=4, COLUMNS=4), dict(CHANNELS=12, ROWS=7, COLUMNS=7)]
GOOD = dict(CHANNELS=3, ROWS=5, COLUMNS=7)


def _id(p):
    return f"{p['CHANNELS']}x{p['ROWS']}x{p['COLUMNS']}"


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_flatten(params):
    assert_passes("snn_flatten", SRC, params, "cocotb_flatten")


@pytest.mark.parametrize("field", ["CHANNELS", "ROWS", "COLUMNS"])
def test_flatten_param_check(field):
    params = dict(GOOD, **{field: 0})
    expect_param_error("snn_flatten", SRC, params,
                       "snn_flatten: CHANNELS ({CHANNELS}), ROWS ({ROWS}) and COLUMNS ({COLUMNS}) must be >= 1"
                       .format(**params))
