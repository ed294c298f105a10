"""snn_axis_register (snnhw/rtl_lib/snn_axis_register.v): the streams' register slice; parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_axis_register")


@pytest.mark.parametrize("params", [dict(WIDTH=1), dict(WIDTH=9), dict(WIDTH=40)], ids=["w1", "w9", "w40"])
def test_axis_register(params):
    assert_passes("snn_axis_register", SRC, params, "cocotb_axis_register")


def test_axis_register_param_check():
    expect_param_error("snn_axis_register", SRC, dict(WIDTH=0), "snn_axis_register: WIDTH (0) must be >= 1")
