"""snn_spike_tap (snnhw/rtl_lib/snn_spike_tap.v): random token streams of many images with valid/ready
toggling, against a Python model (spikes and ends of step only on accepted beats, the step counter restarting
after the image's last step, the C-H-W index); every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_spike_tap")


def ubits(n):
    return max(1, n.bit_length())


def tap_map(c, h, w, t_max):
    """A C x H x W map as snn_top instantiates the tap: field widths of the token, ADDR_W of C*H*W - 1."""
    return dict(MAP=1, CW=ubits(c - 1), YW=ubits(h - 1), XW=ubits(w - 1), HEIGHT=h, WIDTH=w,
                ADDR_W=ubits(c * h * w - 1), STEP_W=ubits(t_max)), c


def tap_vector(n, t_max):
    return dict(MAP=0, CW=ubits(n - 1), YW=1, XW=1, HEIGHT=1, WIDTH=1, ADDR_W=ubits(n - 1), STEP_W=ubits(t_max)), n


CASES = {
    "map-6x5x3-t4": tap_map(6, 5, 3, 4),
    "map-10x28x28-t16": tap_map(10, 28, 28, 16),
    "map-3x1x1-t1": tap_map(3, 1, 1, 1),              # 1x1 map, one step per image (STEP_W 1)
    "vector-100-t3": tap_vector(100, 3),
    "vector-1-t8": tap_vector(1, 8),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_spike_tap(case):
    params, extent = case
    assert_passes("snn_spike_tap", SRC, params, "cocotb_spike_tap", extra_env={"SNNHW_TAP_EXTENT": str(extent)})


GOOD = CASES["map-6x5x3-t4"][0]
# STEP_W = 0 is not listed: Verilator stops at elaboration (a replication count of 0) before the check runs.
MSG = "snn_spike_tap: ADDR_W ({a}) must be 1..31, STEP_W ({s}), HEIGHT, WIDTH >= 1"


@pytest.mark.parametrize("params, message", [
    (dict(ADDR_W=0), MSG.format(a=0, s=3)),
    (dict(ADDR_W=32), MSG.format(a=32, s=3)),
    (dict(HEIGHT=0), MSG.format(a=7, s=3)),
    (dict(WIDTH=0), MSG.format(a=7, s=3)),
], ids=["addr0", "addr32", "height0", "width0"])
def test_spike_tap_param_check(params, message):
    expect_param_error("snn_spike_tap", SRC, dict(GOOD, **params), message)
