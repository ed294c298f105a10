"""snn_event_merge (snnhw/rtl_lib/snn_event_merge.v): cocotb with random streams and stalls, the full-rate
throughput, the last-mismatch check and every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources, run_module

SRC = lib_sources("snn_event_merge", "snn_axis_register")
CASES = [dict(N_IN=2, PAYLOAD_W=1), dict(N_IN=2, PAYLOAD_W=6), dict(N_IN=3, PAYLOAD_W=1), dict(N_IN=3, PAYLOAD_W=6),
         dict(N_IN=5, PAYLOAD_W=9)]


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_event_merge(params):
    assert_passes("snn_event_merge", SRC, params, "cocotb_event_merge")


@pytest.mark.parametrize("n_in", [2, 3])
def test_event_merge_last_mismatch(n_in):
    """The inputs disagree on last at the end of a step: the simulation stops with the check's message."""
    tests, failed, log = run_module("snn_event_merge", SRC, dict(N_IN=n_in, PAYLOAD_W=4), "cocotb_event_merge",
                                    testcase="last_mismatch", extra_env={"SNNHW_MERGE_MODE": "mismatch"})
    assert "snn_event_merge: the inputs disagree on last" in log, log[-3000:]
    assert failed or not tests


@pytest.mark.parametrize("params, message", [
    (dict(N_IN=1), "snn_event_merge: N_IN (1) must be >= 2"),
    (dict(PAYLOAD_W=0), "snn_event_merge: PAYLOAD_W (0) must be >= 1"),
    (dict(SRC_W=2), "snn_event_merge: SRC_W (2) must be ubits(N_IN - 1) = 1"),
    (dict(N_IN=5, SRC_W=2), "snn_event_merge: SRC_W (2) must be ubits(N_IN - 1) = 3"),
    (dict(IN_TOKEN_W=8), "snn_event_merge: IN_TOKEN_W (8) must be 2 + PAYLOAD_W = 10"),
    (dict(OUT_TOKEN_W=10), "snn_event_merge: OUT_TOKEN_W (10) must be 2 + SRC_W + PAYLOAD_W = 11"),
], ids=["n_in1", "payload0", "src_w2", "n_in5-src_w2", "in_token_w", "out_token_w"])
def test_event_merge_param_check(params, message):
    expect_param_error("snn_event_merge", SRC, dict(dict(N_IN=2, PAYLOAD_W=8), **params), message)
