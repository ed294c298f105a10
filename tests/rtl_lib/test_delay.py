"""snn_delay (snnhw/rtl_lib/snn_delay.v): q = d delayed by STAGES cycles; every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_delay")


@pytest.mark.parametrize("params", [dict(WIDTH=8, STAGES=0), dict(WIDTH=1, STAGES=1), dict(WIDTH=20, STAGES=3)],
                         ids=["w8-s0", "w1-s1", "w20-s3"])
def test_delay(params):
    assert_passes("snn_delay", SRC, params, "cocotb_delay")


@pytest.mark.parametrize("params, message", [
    (dict(WIDTH=0, STAGES=1), "snn_delay: WIDTH (0) must be >= 1"),
    (dict(WIDTH=8, STAGES=-1), "snn_delay: STAGES (-1) must be >= 0"),
], ids=["width0", "stages-1"])
def test_delay_param_check(params, message):
    expect_param_error("snn_delay", SRC, params, message)
