"""snn_reset_gen (snnhw/rtl_lib/snn_reset_gen.v): rst from power-on, while unlocked and while the button is
pressed (both polarities), falling exactly HOLD_CYCLES + 3 edges after the last cause (two synchronizer
edges, HOLD_CYCLES counting, the rst register), random causes against a model (cocotb_reset_gen.py); every
parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_reset_gen")
CASES = [dict(HOLD_CYCLES=1, BUTTON_ACTIVE_HIGH=1), dict(HOLD_CYCLES=16, BUTTON_ACTIVE_HIGH=0),
         dict(HOLD_CYCLES=37, BUTTON_ACTIVE_HIGH=1)]


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_reset_gen(params):
    assert_passes("snn_reset_gen", SRC, params, "cocotb_reset_gen")


@pytest.mark.parametrize("params, message", [
    (dict(HOLD_CYCLES=0, BUTTON_ACTIVE_HIGH=1), "snn_reset_gen: HOLD_CYCLES (0) must be >= 1"),
    (dict(HOLD_CYCLES=4, BUTTON_ACTIVE_HIGH=2), "snn_reset_gen: BUTTON_ACTIVE_HIGH (2) must be 0 or 1"),
], ids=["hold0", "button2"])
def test_reset_gen_param_check(params, message):
    expect_param_error("snn_reset_gen", SRC, params, message)
