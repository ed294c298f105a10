"""snn_status_leds (snnhw/rtl_lib/snn_status_leds.v): heartbeat period 2^HEARTBEAT_BITS cycles (running in
reset), led[1..] mapping and reset (cocotb_status_leds.py) for 4, 5 and 8 LEDs; every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_status_leds")
CASES = [dict(HEARTBEAT_BITS=2, LEDS=4), dict(HEARTBEAT_BITS=5, LEDS=5), dict(HEARTBEAT_BITS=8, LEDS=8)]


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_status_leds(params):
    assert_passes("snn_status_leds", SRC, params, "cocotb_status_leds")


@pytest.mark.parametrize("params, message", [
    (dict(HEARTBEAT_BITS=1, LEDS=8), "snn_status_leds: HEARTBEAT_BITS (1) must be >= 2"),
    (dict(HEARTBEAT_BITS=4, LEDS=3), "snn_status_leds: LEDS (3) must be in 4..8"),
    (dict(HEARTBEAT_BITS=4, LEDS=9), "snn_status_leds: LEDS (9) must be in 4..8"),
], ids=["beat1", "leds3", "leds9"])
def test_status_leds_param_check(params, message):
    expect_param_error("snn_status_leds", SRC, params, message)
