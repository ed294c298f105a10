"""snn_host_link (snnhw/rtl_lib/snn_host_link.v): the host protocol of snnhw/board/protocol.py at byte level
against a fake accelerator (cocotb_host_link.py): INFO, CONFIG (0 -> 1, clamp; the exit rule on cfg_exit_*,
saturated), IMAGEs back to back with
RESULT's beats and cycle count, bad CRC, unknown type, wrong length, a frame cut short (each an ERROR after the
idle time, then recovery), garbage before SYNC, bytes sent while busy; tiny images with 8- and 24-bit beats and
the MNIST shape; every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_host_link", "snn_ram", "snn_delay")


def link(pixels, pixel_aw, beat_bits, classes, t_max, step_w, result_aw, idle, default_ts, **extra) -> dict:
    return dict(PIXELS=pixels, PIXEL_AW=pixel_aw, BEAT_BITS=beat_bits, CLASSES=classes, T_MAX=t_max, STEP_W=step_w,
                RESULT_AW=result_aw, IDLE_CYCLES=idle, DEFAULT_TIMESTEPS=default_ts, **extra)


# (parameters, DIVISOR: a character is 10 * DIVISOR cycles)
CASES = {
    "p12-b8-k3": (link(12, 4, 8, 3, 7, 3, 4, 200, 4, DESIGN_ID=0x5A17C0DE, CLOCK_HZ=48_000_000, EXIT_W=5,
                       DEFAULT_EXIT_MARGIN=9, DEFAULT_EXIT_MIN_STEPS=2), 8),
    "p12-b24-k10": (link(12, 4, 24, 10, 20, 5, 5, 200, 20, DESIGN_ID=7, CLOCK_HZ=25_000_000, EXIT_W=25), 8),
    "p5-b32-k4": (link(5, 3, 32, 4, 1, 1, 3, 100, 1, EXIT_W=32, DEFAULT_EXIT_MARGIN=2**31 - 1), 4),
    "mnist-p784-b16-k10": (link(784, 10, 16, 10, 300, 9, 9, 64, 16, DESIGN_ID=0x1234, CLOCK_HZ=50_000_000, EXIT_W=17,
                                DEFAULT_EXIT_MARGIN=5000, DEFAULT_EXIT_MIN_STEPS=4), 2),
}
BASE = CASES["p12-b8-k3"][0]


@pytest.mark.parametrize("name", list(CASES))
def test_host_link(name):
    params, divisor = CASES[name]
    assert_passes("snn_host_link", SRC, params, "cocotb_host_link",
                  extra_env={"SNNHW_LINK_DIVISOR": str(divisor)})


BAD = {
    "pixels0": (dict(PIXELS=0), "snn_host_link: PIXELS (0) must be between 1 and 65535"),
    "pixels-big": (dict(PIXELS=65536, PIXEL_AW=16), "snn_host_link: PIXELS (65536) must be between 1 and 65535"),
    "pixel_aw-narrow": (dict(PIXEL_AW=3), "snn_host_link: PIXEL_AW (3) must be between 1 and 16 with "
                                          "2**PIXEL_AW >= PIXELS (12)"),
    "pixel_aw17": (dict(PIXEL_AW=17), "snn_host_link: PIXEL_AW (17) must be between 1 and 16"),
    "beat12": (dict(BEAT_BITS=12), "snn_host_link: BEAT_BITS (12) must be 8, 16, 24 or 32"),
    "beat40": (dict(BEAT_BITS=40), "snn_host_link: BEAT_BITS (40) must be 8, 16, 24 or 32"),
    "classes0": (dict(CLASSES=0), "snn_host_link: CLASSES (0) must be >= 1"),
    "t_max0": (dict(T_MAX=0, DEFAULT_TIMESTEPS=1), "snn_host_link: T_MAX (0) must be >= 1 and below 2**STEP_W"),
    "t_max8-step3": (dict(T_MAX=8), "snn_host_link: T_MAX (8) must be >= 1 and below 2**STEP_W, STEP_W (3)"),
    "step_w17": (dict(STEP_W=17), "snn_host_link: T_MAX (7) must be >= 1 and below 2**STEP_W, STEP_W (17) between"),
    "result_aw-narrow": (dict(RESULT_AW=3), "snn_host_link: RESULT_AW (3) must be between 1 and 16 with "
                                            "2**RESULT_AW >= T_MAX + CLASSES (10)"),
    "result-too-long": (dict(BEAT_BITS=32, CLASSES=16380, RESULT_AW=15),
                        "snn_host_link: the RESULT payload for T_MAX, 6 + (T_MAX + CLASSES) * beat_bytes = 65554 "
                        "bytes, exceeds 65535"),
    "idle15": (dict(IDLE_CYCLES=15), "snn_host_link: IDLE_CYCLES (15) must be >= 16"),
    "default0": (dict(DEFAULT_TIMESTEPS=0), "snn_host_link: DEFAULT_TIMESTEPS (0) must be between 1 and T_MAX (7)"),
    "default-above": (dict(DEFAULT_TIMESTEPS=8), "snn_host_link: DEFAULT_TIMESTEPS (8) must be between 1 and "
                                                 "T_MAX (7)"),
    "exit_w0": (dict(EXIT_W=0), "snn_host_link: EXIT_W (0) must be between 1 and 32"),
    "exit_w33": (dict(EXIT_W=33), "snn_host_link: EXIT_W (33) must be between 1 and 32"),
    "exit-margin-wide": (dict(DEFAULT_EXIT_MARGIN=32), "snn_host_link: DEFAULT_EXIT_MARGIN (32) must be between 0 "
                                                       "and 2**EXIT_W - 1 (EXIT_W 5)"),
    "exit-margin-negative": (dict(DEFAULT_EXIT_MARGIN=-1), "snn_host_link: DEFAULT_EXIT_MARGIN (-1) must be between 0"),
    "exit-min0": (dict(DEFAULT_EXIT_MIN_STEPS=0), "snn_host_link: DEFAULT_EXIT_MIN_STEPS (0) must be between 1 and "
                                                  "2**STEP_W - 1 (STEP_W 3)"),
    "exit-min-wide": (dict(DEFAULT_EXIT_MIN_STEPS=8), "snn_host_link: DEFAULT_EXIT_MIN_STEPS (8) must be between 1"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_host_link_param_check(name):
    params, message = BAD[name]
    expect_param_error("snn_host_link", SRC, dict(BASE, **params), message)
