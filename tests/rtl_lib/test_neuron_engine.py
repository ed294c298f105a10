"""snn_neuron_engine: its parameter checks (lint for every role in ROLES: test_lib_lint.py).

The engine's behaviour is tested where it has a golden model to meet: every
design in tests/test_rtl_sim.py, tests/test_random_networks.py and
tests/test_per_channel_rtl.py instantiates it (analog, spiking, average
pooling and output roles; reset by subtraction and to zero; zero and half
initial membranes; partial channel groups; banked weight ROMs) and is
checked RTL == golden on every class, step and potential, with stalls,
back-to-back images and a reset mid-image. Its pieces have their own
module tests (scatter address generator, read-modify-write pipeline, neuron
lane, spike emitter, pixel input).
"""
from __future__ import annotations

import pytest

from harness import expect_param_error, lib_sources

DEPS = ("snn_neuron_engine", "snn_scatter_addr", "snn_const_mul", "snn_pixel_input", "snn_rmw_pipeline",
        "snn_neuron_lane", "snn_spike_emitter", "snn_fifo", "snn_ram", "snn_rom", "snn_rom_banked", "snn_delay")

ANALOG = dict(ANALOG=1, SPIKING=1, C_IN=1, H_IN=8, W_IN=8, C_OUT=6, H_OUT=8, W_OUT=8, KH=3, KW=3, PT=1, PL=1,
              LANES=4, CURRENT_BITS=17, MEM_BITS=18, BIAS_BITS=14, THETA_BITS=15, IN_CW=1, IN_YW=3, IN_XW=3,
              IN_TOKEN_W=10, OUT_CW=3, OUT_YW=3, OUT_XW=3, OUT_TOKEN_W=11, STEP_W=5, T_MAX=20, GROUP_W=1,
              MEM_ADDR_W=7, POS_W=6)
OUTPUT = dict(ANALOG=0, SPIKING=0, C_IN=100, H_IN=1, W_IN=1, C_OUT=10, H_OUT=1, W_OUT=1, LANES=3, MEM_BITS=18,
              BIAS_BITS=14, THETA_BITS=2, IN_3D=0, IN_CW=7, IN_TOKEN_W=9, OUT_3D=0, OUT_CW=4, OUT_TOKEN_W=6,
              STEP_W=9, T_MAX=300, GROUP_W=2, MEM_ADDR_W=2, POS_W=1)
AVGPOOL = dict(ANALOG=0, SPIKING=1, AVGPOOL=1, RESET_SUB=0, V_INIT_HALF=1, C_IN=6, H_IN=8, W_IN=8, C_OUT=6, H_OUT=4,
               W_OUT=4, KH=2, KW=2, SH=2, SW=2, LANES=4, WEIGHT_BITS=2, MEM_BITS=12, BIAS_BITS=4, THETA_BITS=6,
               IN_CW=3, IN_YW=3, IN_XW=3, IN_TOKEN_W=11, OUT_CW=3, OUT_YW=2, OUT_XW=2, OUT_TOKEN_W=9, STEP_W=4,
               T_MAX=10, GROUP_W=1, MEM_ADDR_W=5, POS_W=4)
DENSE_BANKED = dict(ANALOG=0, SPIKING=1, C_IN=6, H_IN=8, W_IN=8, C_OUT=100, LANES=8, MEM_BITS=12, BIAS_BITS=4,
                    THETA_BITS=6, IN_CW=3, IN_YW=3, IN_XW=3, IN_TOKEN_W=11, OUT_3D=0, OUT_CW=7, OUT_TOKEN_W=9,
                    STEP_W=4, T_MAX=10, GROUP_W=4, MEM_ADDR_W=4, POS_W=1, WEIGHT_BANK_AW=3)
ROLES = {"analog": ANALOG, "output": OUTPUT, "avgpool": AVGPOOL, "dense_banked": DENSE_BANKED}


BAD = [
    (dict(ANALOG, LANES=7), "is not mappable"),                       # more lanes than channels
    (dict(ANALOG, OUT_TOKEN_W=12), "disagree with the token fields"),
    (dict(ANALOG, MEM_ADDR_W=8), "MEM_ADDR_W 8"),                      # a port width that disagrees with the geometry
    (dict(ANALOG, OUT_CW=2, OUT_TOKEN_W=10), "output token fields"),  # 6 channels need 3 bits
    (dict(AVGPOOL, C_OUT=5, LANES=5, MEM_ADDR_W=4), "needs C_IN = C_OUT"),
    (dict(ANALOG, WEIGHT_BANK_AW=3), "0 for the analog layer"),
]


@pytest.mark.parametrize("params,message", BAD, ids=[m for _, m in BAD])
def test_parameter_checks(params, message):
    expect_param_error("snn_neuron_engine", lib_sources(*DEPS), params, message)
