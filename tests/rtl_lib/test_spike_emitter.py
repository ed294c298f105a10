"""snn_spike_emitter (snnhw/rtl_lib/snn_spike_emitter.v): fire-sweep words from a producer that pushes
PUSH_LATENCY cycles after it saw push_room, random back-pressure, against a Python model (spikes in push order,
lowest lane first, channel group*LANES + lane); the queue's SNNHW_ASSERT overflow check stays quiet within the
credit and trips one cycle beyond it; every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources, run_module

SRC = lib_sources("snn_spike_emitter", "snn_fifo", "snn_const_mul")
ASSERT = {"SNNHW_ASSERT": 1}


def ubits(n):
    return max(1, n.bit_length())


def emitter(lanes, channels, position=1, oy_w=3, ox_w=2, depth=8, latency=3):
    groups = -(-channels // lanes)
    return dict(LANES=lanes, GROUP_W=ubits(groups - 1), CHANNEL_W=ubits(channels - 1), POSITION=position,
                OY_W=oy_w, OX_W=ox_w, DEPTH=depth, PUSH_LATENCY=latency), channels


CASES = {
    "p1-c10-pos": emitter(1, 10),                                   # the engine's queue: DEPTH 8, PUSH_LATENCY 3
    "p3-c7-pos": emitter(3, 7, oy_w=2, ox_w=3),                      # odd lanes, last group of 1 lane
    "p3-c12-vec-d4-l0": emitter(3, 12, position=0, depth=4, latency=0),   # plain valid/ready producer
    "p8-c20-pos": emitter(8, 20),                                    # last group of 4 lanes
    "p8-c8-vec-d16-l7": emitter(8, 8, position=0, depth=16, latency=7),   # one group, latency DEPTH - 1
    "p3-c6-pos-d2-l1": emitter(3, 6, oy_w=1, ox_w=1, depth=2, latency=1),
}


def _env(channels, latency):
    return {"SNNHW_CHANNELS": str(channels), "SNNHW_PRODUCER_LATENCY": str(latency)}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_spike_emitter(case):
    params, channels = case
    assert_passes("snn_spike_emitter", SRC, params, "cocotb_spike_emitter", defines=ASSERT,
                  extra_env=_env(channels, params["PUSH_LATENCY"]))


@pytest.mark.parametrize("name", ["p1-c10-pos", "p8-c8-vec-d16-l7", "p3-c6-pos-d2-l1"])
def test_spike_emitter_credit_exceeded(name):
    """A producer one cycle slower than PUSH_LATENCY overflows the queue under back-pressure: SNNHW_ASSERT stops.
    (PUSH_LATENCY = 0 is a plain valid/ready queue, which the assertion does not watch.)"""
    params, channels = CASES[name]
    tests, failed, log = run_module("snn_spike_emitter", SRC, params, "cocotb_spike_emitter", defines=ASSERT,
                                    extra_env=_env(channels, params["PUSH_LATENCY"] + 1))
    assert "the producer exceeded its credit" in log, log[-3000:]
    assert failed or not tests


GOOD = CASES["p1-c10-pos"][0]
# LANES = 0 is not listed: Verilator stops at elaboration (a replication count of -1) before the check runs.


@pytest.mark.parametrize("params, message", [
    (dict(GROUP_W=0), "snn_spike_emitter: LANES (1) and the widths must be >= 1"),
    (dict(CHANNEL_W=0), "snn_spike_emitter: LANES (1) and the widths must be >= 1"),
    (dict(OY_W=0), "snn_spike_emitter: LANES (1) and the widths must be >= 1"),
    (dict(OX_W=0), "snn_spike_emitter: LANES (1) and the widths must be >= 1"),
    (dict(LANES=5, CHANNEL_W=2), "snn_spike_emitter: CHANNEL_W (2) cannot hold a lane of LANES (5)"),
    (dict(PUSH_LATENCY=-1), "snn_spike_emitter: PUSH_LATENCY (-1) must be in 0 .. DEPTH - 1 (DEPTH = 8)"),
    (dict(PUSH_LATENCY=8), "snn_spike_emitter: PUSH_LATENCY (8) must be in 0 .. DEPTH - 1 (DEPTH = 8)"),
], ids=["group0", "channel0", "oy0", "ox0", "channel-lt-lanes", "latency-1", "latency-depth"])
def test_spike_emitter_param_check(params, message):
    expect_param_error("snn_spike_emitter", SRC, dict(GOOD, **params), message)
