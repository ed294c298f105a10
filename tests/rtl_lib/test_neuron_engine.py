"""snn_neuron_engine: its image abort against every race (cocotb_neuron_engine.py), its parameter checks
(lint for every role in ROLES: test_lib_lint.py).

The abort test drives a spiking convolution (two lanes, a partial last channel group, padding; once with
its kernel columns in parallel, COLS = 3) and a
dense layer (one lane, seven channel groups per event, reset to zero, v_init half) alone, with the abort
raised in every phase of an image (after its first token, between tokens, mid-scatter, mid-sweep, at and
after its last token) and checks every output step against a small model of the numeric contract.

The engine's numerics are tested where it has a golden model to meet: every
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

import json

import numpy as np
import pytest

from harness import assert_passes, build_module, expect_param_error, lib_sources

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
ANALOG_COLS = dict(ANALOG, COLS=3, MEM_ADDR_W=6, WEIGHT_BLOCK=0)  # 3 column banks of 2 groups x 8 rows x 3 words
# depthwise, channel multiplier 2 (12 outputs of 6 inputs), 2 lanes, kernel columns in parallel
DEPTHWISE = dict(AVGPOOL, AVGPOOL=0, CONV_GROUPS=6, C_OUT=12, H_OUT=8, W_OUT=8, KH=3, KW=3, SH=1, SW=1, PT=1, PL=1,
                 LANES=2, COLS=3, WEIGHT_BITS=6, OUT_CW=4, OUT_YW=3, OUT_XW=3, OUT_TOKEN_W=12, GROUP_W=3,
                 MEM_ADDR_W=8, POS_W=6)


def syn_params(*values) -> str:
    """A multi-input engine's SYN_* parameter: input k's 32-bit value at bits [32*k +: 32], as -G takes it."""
    return f"{32 * len(values)}'h" + "".join(f"{int(v):08x}" for v in reversed(values))


# two synapse inputs (a residual Add): a 3x3 conv 4 -> 4 (72 weight words) and an identity shortcut built
# with 2 groups at 2 lanes (4 words from word 72), tokens {eos, last, src, c, y, x}
SUM = dict(ANALOG=0, SPIKING=1, C_IN=4, H_IN=8, W_IN=8, C_OUT=4, H_OUT=8, W_OUT=8, KH=3, KW=3, PT=1, PL=1, LANES=2,
           MEM_BITS=12, BIAS_BITS=4, THETA_BITS=6, IN_CW=2, IN_YW=3, IN_XW=3, IN_TOKEN_W=11, OUT_CW=2, OUT_YW=3,
           OUT_XW=3, OUT_TOKEN_W=10, STEP_W=4, T_MAX=10, GROUP_W=1, MEM_ADDR_W=7, POS_W=6, N_SYN=2, SRC_W=1,
           SYN_C_IN=syn_params(4, 4), SYN_H_IN=syn_params(8, 8), SYN_W_IN=syn_params(8, 8), SYN_KH=syn_params(3, 1),
           SYN_KW=syn_params(3, 1), SYN_SH=syn_params(1, 1), SYN_SW=syn_params(1, 1), SYN_PT=syn_params(1, 0),
           SYN_PL=syn_params(1, 0), SYN_GROUPS=syn_params(1, 2), SYN_WBASE=syn_params(0, 72), WEIGHT_DEPTH=76)
ROLES = {"analog": ANALOG, "output": OUTPUT, "avgpool": AVGPOOL, "dense_banked": DENSE_BANKED,
         "analog_cols3": ANALOG_COLS, "depthwise_cols3": DEPTHWISE, "sum2": SUM}


BAD = [
    (dict(ANALOG, LANES=7), "is not mappable"),                       # more lanes than channels
    (dict(ANALOG, OUT_TOKEN_W=12), "disagree with the token fields"),
    (dict(ANALOG, MEM_ADDR_W=8), "MEM_ADDR_W 8"),                      # a port width that disagrees with the geometry
    (dict(ANALOG, OUT_CW=2, OUT_TOKEN_W=10), "output token fields"),  # 6 channels need 3 bits
    (dict(SUM, COLS=3, MEM_ADDR_W=6), "N_SYN (2) > 1 needs COLS = 1"),
    (dict(SUM, IN_TOKEN_W=10), "disagree with the token fields"),        # the src bit missing
    (dict(SUM, WEIGHT_DEPTH=75), "WEIGHT_DEPTH (75) must be the synapse inputs' 76 weight words"),
    (dict(SUM, SYN_WBASE=syn_params(0, 70)), "weights from word 70 (expected 72) are not mappable"),
    (dict(SUM, SYN_GROUPS=syn_params(1, 4)), "synapse input 1: input 4x8x8, kernel 1x1"),  # 4 groups: 1 output each
    (dict(AVGPOOL, C_OUT=5, LANES=5, MEM_ADDR_W=4), "needs C_IN = C_OUT"),
    (dict(ANALOG, WEIGHT_BANK_AW=3), "0 for the analog layer"),
    (dict(ANALOG, COLS=2, MEM_ADDR_W=6), "COLS (2) must be 1, or KW"),
    (dict(AVGPOOL, COLS=2, MEM_ADDR_W=4), "COLS (2) must be 1, or KW"),   # average pooling: one bank
    (dict(ANALOG_COLS, MEM_ADDR_W=7), "MEM_ADDR_W 7"),                   # the depth of one bank
    (dict(ANALOG, WEIGHT_BLOCK=2), "WEIGHT_BLOCK (2) must be 0 or 1"),
    (dict(DEPTHWISE, CONV_GROUPS=5), "CONV_GROUPS (5) must divide C_IN (6) and C_OUT (12)"),
    (dict(DEPTHWISE, LANES=4, GROUP_W=2, MEM_ADDR_W=7), "CONV_GROUPS (6) must divide"),  # 4 lanes, 2 per group
]


def s64(v: int) -> str:
    """A signed 64-bit parameter value as Verilator's -G takes it."""
    return f"64'sh{v & ((1 << 64) - 1):016X}"


def ubits(n: int) -> int:
    return max(1, int(n).bit_length())


# engines for the abort test: geometry, lanes, options
ABORT_CASES = {
    "conv3x3_p2": dict(vector=0, c_in=2, h_in=5, w_in=5, c_out=5, h_out=5, w_out=5, kh=3, kw=3, sh=1, sw=1, pt=1,
                       pl=1, lanes=2, reset_sub=1, v_init_half=0, images=[3, 2, 4, 1, 5, 3] * 7 + [2],
                       densities=[0.0, 0.1, 0.3, 0.6]),
    # the same with the kernel columns in parallel: 3 banks of 2 words per row (5 columns)
    "conv3x3_p2_cols3": dict(vector=0, c_in=2, h_in=5, w_in=5, c_out=5, h_out=5, w_out=5, kh=3, kw=3, sh=1, sw=1,
                             pt=1, pl=1, lanes=2, cols=3, reset_sub=1, v_init_half=0,
                             images=[3, 2, 4, 1, 5, 3] * 7 + [2], densities=[0.0, 0.1, 0.3, 0.6]),
    "dense_p1": dict(vector=1, c_in=20, h_in=1, w_in=1, c_out=7, h_out=1, w_out=1, kh=1, kw=1, sh=1, sw=1, pt=0,
                     pl=0, lanes=1, reset_sub=0, v_init_half=1, images=[4, 3, 2, 5, 3, 1] * 7 + [2],
                     densities=[0.1, 0.3, 0.8]),
}


def _hex(words, lane_bits, lanes):
    digits = -(-lane_bits * lanes // 4)
    return "".join(f"{sum((v & ((1 << lane_bits) - 1)) << (p * lane_bits) for p, v in enumerate(w)):0{digits}x}\n"
                   for w in words)


def abort_case(name: str, seed: int = 3):
    """(parameters, configuration for cocotb_neuron_engine.py, memory images {file: text})."""
    c = dict(ABORT_CASES[name])
    rng = np.random.default_rng(seed)
    O, C, KH, KW, P = c["c_out"], c["c_in"], c["kh"], c["kw"], c["lanes"]
    G = -(-O // P)
    WB, MB, BB, TB, vmin, vmax = 4, 12, 4, 5, -256, 255
    w = rng.integers(-7, 8, (O, C, KH, KW))
    b = rng.integers(-3, 6, O)
    theta = rng.integers(3, 13, O)
    lane = lambda g, p: g * P + p   # noqa: E731
    cols = c.get("cols", 1)
    if cols > 1:  # word (ci*KH + ky)*G + g holds the KW kernel columns, column kx in lanes kx*P + p
        weights = [[int(w[lane(g, p), ci, ky, kx]) if lane(g, p) < O else 0 for kx in range(KW) for p in range(P)]
                   for ci in range(C) for ky in range(KH) for g in range(G)]
    else:
        weights = [[int(w[lane(g, p), ci, ky, kx]) if lane(g, p) < O else 0 for p in range(P)]
                   for ci in range(C) for ky in range(KH) for kx in range(KW) for g in range(G)]
    mem = {"mem/w.hex": _hex(weights, WB, len(weights[0])),
           "mem/b.hex": _hex([[int(b[lane(g, p)]) if lane(g, p) < O else 0 for p in range(P)] for g in range(G)], BB, P),
           "mem/t.hex": _hex([[int(theta[lane(g, p)]) if lane(g, p) < O else 0 for p in range(P)] for g in range(G)],
                             TB, P)}
    vec = bool(c["vector"])
    icw, iyw, ixw = ubits(C - 1), ubits(c["h_in"] - 1), ubits(c["w_in"] - 1)
    ocw, oyw, oxw = ubits(O - 1), ubits(c["h_out"] - 1), ubits(c["w_out"] - 1)
    params = dict(ANALOG=0, SPIKING=1, AVGPOOL=0, RESET_SUB=c["reset_sub"], V_INIT_HALF=c["v_init_half"], C_IN=C,
                  H_IN=c["h_in"], W_IN=c["w_in"], C_OUT=O, H_OUT=c["h_out"], W_OUT=c["w_out"], KH=KH, KW=KW,
                  SH=c["sh"], SW=c["sw"], PT=c["pt"], PL=c["pl"], LANES=P, COLS=cols, WEIGHT_BITS=WB, MEM_BITS=MB,
                  BIAS_BITS=BB, THETA_BITS=TB, VMIN=s64(vmin), VMAX=s64(vmax), T_MAX=8, IN_3D=int(not vec),
                  IN_CW=icw, IN_YW=iyw, IN_XW=ixw, OUT_3D=int(not vec), OUT_CW=ocw, OUT_YW=oyw, OUT_XW=oxw,
                  IN_TOKEN_W=2 + icw + (0 if vec else iyw + ixw), OUT_TOKEN_W=2 + ocw + (0 if vec else oyw + oxw),
                  STEP_W=ubits(8), GROUP_W=ubits(G - 1), MEM_ADDR_W=ubits(G * c["h_out"] * -(-c["w_out"] // cols) - 1),
                  POS_W=ubits(c["h_out"] * c["w_out"] - 1), MEM_BLOCK=0, WEIGHT_FILE='"mem/w.hex"',
                  BIAS_FILE='"mem/b.hex"', THETA_FILE='"mem/t.hex"')
    cfg = dict(c, weights=w.tolist(), bias=b.tolist(), theta=theta.tolist(), vmin=vmin, vmax=vmax, seed=seed)
    return params, cfg, mem


@pytest.mark.parametrize("name", sorted(ABORT_CASES))
def test_abort(name):
    params, cfg, mem = abort_case(name)
    build = build_module("snn_neuron_engine", lib_sources(*DEPS), params)
    for path, text in mem.items():   # relative to the simulation's directory
        (build / path).parent.mkdir(parents=True, exist_ok=True)
        (build / path).write_text(text)
    assert_passes("snn_neuron_engine", lib_sources(*DEPS), params, "cocotb_neuron_engine",
                  extra_env={"SNNHW_ENGINE": json.dumps(cfg)})


@pytest.mark.parametrize("params,message", BAD, ids=[m for _, m in BAD])
def test_parameter_checks(params, message):
    expect_param_error("snn_neuron_engine", lib_sources(*DEPS), params, message)
