"""snn_const_mul (snnhw/rtl_lib/snn_const_mul.v): products for several constants (0, 1, powers of two, runs
of ones, alternating bits) and output widths narrower and wider than the product; every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_const_mul")
CASES = [
    dict(IN_WIDTH=8, OUT_WIDTH=16, K=0),
    dict(IN_WIDTH=8, OUT_WIDTH=8, K=1),
    dict(IN_WIDTH=12, OUT_WIDTH=9, K=1),             # truncated x
    dict(IN_WIDTH=5, OUT_WIDTH=32, K=1 << 20),       # a power of two
    dict(IN_WIDTH=10, OUT_WIDTH=14, K=255),          # 2**8 - 1: NAF + 256 - 1, product truncated
    dict(IN_WIDTH=16, OUT_WIDTH=48, K=0x55555555),   # alternating bits, product wider than 32 bits
    dict(IN_WIDTH=7, OUT_WIDTH=40, K=0x2AAAAAAB),
    dict(IN_WIDTH=20, OUT_WIDTH=24, K=0x7FFFFFFF),   # largest K
    dict(IN_WIDTH=6, OUT_WIDTH=12, K=784),           # 28 * 28
    dict(IN_WIDTH=1, OUT_WIDTH=1, K=3),
]


def _id(p):
    return f"in{p['IN_WIDTH']}-out{p['OUT_WIDTH']}-k{p['K']:#x}"


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_const_mul(params):
    assert_passes("snn_const_mul", SRC, params, "cocotb_const_mul")


@pytest.mark.parametrize("params, message", [
    (dict(IN_WIDTH=0, OUT_WIDTH=8, K=3), "snn_const_mul: IN_WIDTH (0) and OUT_WIDTH (8) must be >= 1"),
    (dict(IN_WIDTH=8, OUT_WIDTH=0, K=3), "snn_const_mul: IN_WIDTH (8) and OUT_WIDTH (0) must be >= 1"),
    (dict(IN_WIDTH=8, OUT_WIDTH=8, K=-3), "snn_const_mul: K (-3) must be >= 0"),
], ids=["in0", "out0", "k-negative"])
def test_const_mul_param_check(params, message):
    expect_param_error("snn_const_mul", SRC, params, message)
