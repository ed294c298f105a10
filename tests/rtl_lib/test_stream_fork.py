"""snn_stream_fork (snnhw/rtl_lib/snn_stream_fork.v): cocotb with random stalls on every side, the full-rate
throughput, reset, and the parameter checks."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_stream_fork")
CASES = [dict(N_OUT=2, WIDTH=1), dict(N_OUT=2, WIDTH=10), dict(N_OUT=3, WIDTH=7), dict(N_OUT=5, WIDTH=12)]


@pytest.mark.parametrize("params", CASES, ids=lambda p: "-".join(f"{k}{v}" for k, v in p.items()))
def test_stream_fork(params):
    assert_passes("snn_stream_fork", SRC, params, "cocotb_stream_fork")


@pytest.mark.parametrize("params, message", [
    (dict(N_OUT=1), "snn_stream_fork: N_OUT (1) must be >= 2 and WIDTH (8) >= 1"),
    (dict(WIDTH=0), "snn_stream_fork: N_OUT (2) must be >= 2 and WIDTH (0) >= 1"),
], ids=["n_out1", "width0"])
def test_stream_fork_param_check(params, message):
    expect_param_error("snn_stream_fork", SRC, dict(dict(N_OUT=2, WIDTH=8), **params), message)
