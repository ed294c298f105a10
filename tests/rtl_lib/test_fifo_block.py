"""snn_fifo_block (snnhw/rtl_lib/snn_fifo_block.v, with snn_ram): cocotb against a cycle-accurate model
(random traffic with resets, fill, drain, a steady one-word-per-cycle stream) and every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_fifo_block", "snn_ram", "snn_delay")
CASES = [dict(WIDTH=8, DEPTH=16), dict(WIDTH=1, DEPTH=2), dict(WIDTH=15, DEPTH=1024)]


@pytest.mark.parametrize("params", CASES, ids=lambda p: "-".join(f"{k}{v}" for k, v in p.items()))
def test_fifo_block(params):
    assert_passes("snn_fifo_block", SRC, params, "cocotb_fifo_block")


@pytest.mark.parametrize("params, message", [
    (dict(DEPTH=12), "snn_fifo_block: DEPTH (12) must be a power of two >= 2"),
    (dict(DEPTH=1), "snn_fifo_block: DEPTH (1) must be a power of two >= 2"),
    (dict(WIDTH=0), "snn_fifo_block: WIDTH (0) must be >= 1"),
], ids=["depth12", "depth1", "width0"])
def test_fifo_block_param_check(params, message):
    expect_param_error("snn_fifo_block", SRC, dict(dict(WIDTH=8, DEPTH=16), **params), message)
