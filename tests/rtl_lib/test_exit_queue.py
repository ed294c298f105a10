"""snn_exit_queue (snnhw/rtl_lib/snn_exit_queue.v): cocotb against a cycle-accurate model (with the
SNNHW_ASSERT checks on) and every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_exit_queue")
CASES = [dict(MARGIN_BITS=17, STEP_W=5, DEPTH=16), dict(MARGIN_BITS=1, STEP_W=1, DEPTH=2),
         dict(MARGIN_BITS=9, STEP_W=9, DEPTH=4)]
GOOD = dict(MARGIN_BITS=9, STEP_W=4, DEPTH=16)


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_exit_queue(params):
    assert_passes("snn_exit_queue", SRC, params, "cocotb_exit_queue", defines={"SNNHW_ASSERT": 1})


@pytest.mark.parametrize("params, message", [
    (dict(MARGIN_BITS=0), "snn_exit_queue: MARGIN_BITS (0) must be >= 1"),
    (dict(STEP_W=0), "snn_exit_queue: STEP_W (0) must be >= 1"),
    (dict(DEPTH=1), "snn_exit_queue: DEPTH (1) must be a power of two >= 2"),
    (dict(DEPTH=12), "snn_exit_queue: DEPTH (12) must be a power of two >= 2"),
], ids=["margin0", "step0", "depth1", "depth12"])
def test_exit_queue_param_check(params, message):
    expect_param_error("snn_exit_queue", SRC, dict(GOOD, **params), message)
