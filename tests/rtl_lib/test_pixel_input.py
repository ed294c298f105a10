"""snn_pixel_input (snnhw/rtl_lib/snn_pixel_input.v): random images with random gaps against the model in
cocotb_pixel_input.py (C-H-W counting, first/last, t_steps sampled and clamped at the first pixel, sticky
framing_error with the count authoritative) for a 1x3x3 image with T_MAX 5, a 3x2x4 one with T_MAX =
2**STEP_W - 1 (nothing to clamp above), a dense-like 10x1x1 one and a 2x1x3 one with T_MAX 1; every parameter
check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_pixel_input")


def ubits(n: int) -> int:
    return max(1, int(n).bit_length())


def pixel(c, h, w, t_max, step_w=None) -> dict:
    return dict(CHANNELS=c, HEIGHT=h, WIDTH=w, CW=ubits(c - 1), YW=ubits(h - 1), XW=ubits(w - 1), T_MAX=t_max,
                STEP_W=step_w or ubits(t_max))


CASES = {
    "1x3x3-t5": pixel(1, 3, 3, 5),
    "3x2x4-t7": pixel(3, 2, 4, 7),
    "10x1x1-t100": pixel(10, 1, 1, 100, 8),
    "2x1x3-t1": pixel(2, 1, 3, 1),
}
BASE = CASES["3x2x4-t7"]
SHAPE = "snn_pixel_input: image {CHANNELS}x{HEIGHT}x{WIDTH} does not fit CW {CW}, YW {YW}, XW {XW}"
STEPS = "snn_pixel_input: T_MAX ({T_MAX}) must be >= 1 and below 2**STEP_W (STEP_W = {STEP_W})"
BAD = {
    "channels0": (dict(CHANNELS=0), SHAPE),
    "height0": (dict(HEIGHT=0), SHAPE),
    "width0": (dict(WIDTH=0), SHAPE),
    "cw-narrow": (dict(CHANNELS=5), SHAPE),     # CW 2
    "yw-narrow": (dict(HEIGHT=3), SHAPE),       # YW 1
    "xw-narrow": (dict(WIDTH=5), SHAPE),        # XW 2
    "t_max0": (dict(T_MAX=0), STEPS),
    "t_max8-step3": (dict(T_MAX=8), STEPS),     # not below 2**STEP_W
    "step_w32": (dict(STEP_W=32), STEPS),
}


@pytest.mark.parametrize("name", list(CASES))
def test_pixel_input(name):
    assert_passes("snn_pixel_input", SRC, CASES[name], "cocotb_pixel_input")


@pytest.mark.parametrize("name", list(BAD))
def test_pixel_input_param_check(name):
    change, template = BAD[name]
    params = dict(BASE, **change)
    expect_param_error("snn_pixel_input", SRC, params, template.format(**params))
