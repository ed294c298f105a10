"""snn_output_stream (snnhw/rtl_lib/snn_output_stream.v): images of several steps, words in random order with
gaps, random back-pressure, ties, partial last channel group, early exit (margins, min_steps, images cut after
their exit step), against a Python model; every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_output_stream", "snn_const_mul")
CASES = [
    dict(LANES=1, CHANNELS=10, POSITIONS=1, POTENTIAL_BITS=12, DATA_WIDTH=16),   # dense, no tree
    dict(LANES=4, CHANNELS=10, POSITIONS=1, POTENTIAL_BITS=9, DATA_WIDTH=16),    # last group: 2 of 4 lanes
    dict(LANES=5, CHANNELS=7, POSITIONS=6, POTENTIAL_BITS=8, DATA_WIDTH=8),      # conv output, odd tree
    dict(LANES=16, CHANNELS=16, POSITIONS=16, POTENTIAL_BITS=6, DATA_WIDTH=8),   # 256 classes: index = DATA_WIDTH
    dict(LANES=3, CHANNELS=2, POSITIONS=3, POTENTIAL_BITS=4, DATA_WIDTH=8),      # more lanes than channels
    dict(LANES=1, CHANNELS=1, POSITIONS=1, POTENTIAL_BITS=4, DATA_WIDTH=8, STEP_W=2),   # one class: margin = top1
]
GOOD = dict(LANES=4, CHANNELS=10, POSITIONS=1, POTENTIAL_BITS=9, DATA_WIDTH=16)


def _id(p):
    return "p{LANES}-c{CHANNELS}-hw{POSITIONS}-mb{POTENTIAL_BITS}-dw{DATA_WIDTH}".format(**p) + (
        f"-sw{p['STEP_W']}" if "STEP_W" in p else "")


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_output_stream(params):
    assert_passes("snn_output_stream", SRC, params, "cocotb_output_stream")


@pytest.mark.parametrize("params, message", [
    (dict(LANES=0), "snn_output_stream: LANES (0) must be >= 1"),
    (dict(CHANNELS=0), "snn_output_stream: CHANNELS (0) must be >= 1"),
    (dict(POSITIONS=0), "snn_output_stream: POSITIONS (0) must be >= 1"),
    (dict(POTENTIAL_BITS=0), "snn_output_stream: POTENTIAL_BITS (0) must be >= 1"),
    (dict(DATA_WIDTH=8), "snn_output_stream: DATA_WIDTH (8) must be >= POTENTIAL_BITS (9)"),
    (dict(CHANNELS=300, POTENTIAL_BITS=6, DATA_WIDTH=8),
     "snn_output_stream: DATA_WIDTH (8) must be >= INDEX_BITS (9) for 300 classes"),
    (dict(STEP_W=0), "snn_output_stream: STEP_W (0) must be >= 1"),
], ids=["lanes0", "channels0", "positions0", "mb0", "dw-lt-mb", "dw-lt-index", "step-w0"])
def test_output_stream_param_check(params, message):
    expect_param_error("snn_output_stream", SRC, dict(GOOD, **params), message)
