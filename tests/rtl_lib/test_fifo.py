"""snn_fifo (snnhw/rtl_lib/snn_fifo.v): cocotb against a cycle-accurate model, the SNNHW_ASSERT overflow
check and every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources, run_module

SRC = lib_sources("snn_fifo")
CASES = [dict(WIDTH=8, DEPTH=16, SLACK=0), dict(WIDTH=1, DEPTH=2, SLACK=0), dict(WIDTH=13, DEPTH=8, SLACK=3),
         dict(WIDTH=4, DEPTH=4, SLACK=1)]
ASSERT = {"SNNHW_ASSERT": 1}


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_fifo(params):
    assert_passes("snn_fifo", SRC, params, "cocotb_fifo",
                  extra_env={"SNNHW_FIFO_MODE": f"credit:{params['SLACK']}"} if params["SLACK"] else None)


def test_fifo_assert_quiet_without_credit():
    """SLACK = 0 is plain valid/ready: s_valid while full (a held or an abandoned word) is no error."""
    assert_passes("snn_fifo", SRC, dict(WIDTH=8, DEPTH=4, SLACK=0), "cocotb_fifo", defines=ASSERT)


@pytest.mark.parametrize("slack", [1, 3])
def test_fifo_assert_credit(slack):
    """Credit mode: a producer within its credit never trips SNNHW_ASSERT; one cycle more overflows and stops."""
    params = dict(WIDTH=8, DEPTH=8, SLACK=slack)
    assert_passes("snn_fifo", SRC, params, "cocotb_fifo", defines=ASSERT, testcase="credit_producer",
                  extra_env={"SNNHW_FIFO_MODE": f"credit:{slack}"})
    tests, failed, log = run_module("snn_fifo", SRC, params, "cocotb_fifo", defines=ASSERT,
                                    testcase="credit_producer", extra_env={"SNNHW_FIFO_MODE": f"credit:{slack + 1}"})
    assert "the producer exceeded its credit" in log, log[-3000:]
    assert failed or not tests


@pytest.mark.parametrize("params, message", [
    (dict(DEPTH=12), "snn_fifo: DEPTH (12) must be a power of two >= 2"),
    (dict(DEPTH=1), "snn_fifo: DEPTH (1) must be a power of two >= 2"),
    (dict(WIDTH=0), "snn_fifo: WIDTH (0) must be >= 1"),
    (dict(SLACK=-1), "snn_fifo: SLACK (-1) must be >= 0 and < DEPTH (16)"),
    (dict(SLACK=16), "snn_fifo: SLACK (16) must be >= 0 and < DEPTH (16)"),
], ids=["depth12", "depth1", "width0", "slack-1", "slack16"])
def test_fifo_param_check(params, message):
    expect_param_error("snn_fifo", SRC, dict(dict(WIDTH=8, DEPTH=16, SLACK=0), **params), message)
