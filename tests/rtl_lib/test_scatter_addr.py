"""snn_scatter_addr (snnhw/rtl_lib/snn_scatter_addr.v, with snn_const_mul): cocotb against the model in
cocotb_scatter_addr.py for a conv (3x3 stride 1 pad 1, 3 channel groups, weights), average pooling (2x2
stride 2, TARGET_CHANNEL_DIV 4), a max-pool gate's windows (3x3 stride 2 pad 1, overlapping, TARGET_CHANNEL_DIV
1), a non-square kernel and stride (a kernel column narrower than its stride), outputs past every input's
reach (bottom / right padding) and a dense layer (all 1x1, 5 groups); every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_scatter_addr", "snn_const_mul")


def ubits(n: int) -> int:
    return max(1, int(n).bit_length())


def scatter(c_in, h_in, w_in, h_out, w_out, k, s, p, groups=1, div=0, weights=1, cols=1) -> dict:
    """Parameters with the widths the engines give them; C_IN is the stimulus' channel count (not a parameter)."""
    (kh, kw), (sh, sw), (pt, pl) = k, s, p
    n_groups = groups if div == 0 else -(-c_in // div) * groups   # target groups the addresses span
    words = -(-w_out // cols)
    return dict(H_IN=h_in, W_IN=w_in, H_OUT=h_out, W_OUT=w_out, KH=kh, KW=kw, SH=sh, SW=sw, PT=pt, PL=pl,
                COLS=cols, GROUPS=groups, TARGET_CHANNEL_DIV=div, WEIGHTS=weights, CW=ubits(c_in - 1),
                YW=ubits(h_in - 1), XW=ubits(w_in - 1), GW=ubits(n_groups - 1),
                TAW=ubits(n_groups * h_out * words - 1),
                WAW=ubits(c_in * kh * (1 if cols > 1 else kw) * groups - 1) if weights else 1, OYW=ubits(h_out - 1),
                OXW=ubits(w_out - 1), COL_MXW=ubits(cols - 1)), c_in


CASES = {
    "conv3x3s1p1-g3": scatter(3, 5, 6, 5, 6, (3, 3), (1, 1), (1, 1), groups=3),
    "avgpool2x2s2-div4": scatter(8, 6, 4, 3, 2, (2, 2), (2, 2), (0, 0), div=4, weights=0),
    "maxpool3x3s2p1-div1": scatter(3, 7, 6, 4, 3, (3, 3), (2, 2), (1, 1), div=1, weights=0),
    "k3x2-s2x3-p1x0-g2": scatter(3, 7, 8, 3, 3, (3, 2), (2, 3), (1, 0), groups=2),
    "dense-g5": scatter(10, 1, 1, 1, 1, (1, 1), (1, 1), (0, 0), groups=5),
    # a grouped conv: 6 input channels in 2 convolution groups (3 each), 2 output channel groups per group
    "conv3x3-convgroups2-g2": scatter(6, 5, 6, 5, 6, (3, 3), (1, 1), (1, 1), groups=2, div=3),
    # depthwise (one output channel group per input channel) with the kernel columns in parallel
    "depthwise3x3-cols3": scatter(4, 6, 7, 6, 7, (3, 3), (1, 1), (1, 1), div=1, cols=3),
    # kernel columns in parallel: 3 banks, a width (7) not a multiple of 3, padding both sides
    "conv3x3s1p1-g2-cols3": scatter(3, 6, 7, 6, 7, (3, 3), (1, 1), (1, 1), groups=2, cols=3),
    # 5 banks, a 5x2 kernel row stride 2, no padding (valid conv, output narrower than the input)
    "conv2x5s2x1-cols5": scatter(2, 7, 9, 3, 5, (2, 5), (2, 1), (0, 0), cols=5),
    # padding at the bottom and right only (6 each): outputs past every input's reach, H_OUT 8 above the
    # largest q - m the in-range test's 3-bit difference holds (it tests against 4, the same)
    "conv2x2-pad-bottom-right6": scatter(2, 3, 3, 8, 8, (2, 2), (1, 1), (0, 0)),
}
BASE = CASES["conv3x3s1p1-g3"][0]


@pytest.mark.parametrize("name", list(CASES))
def test_scatter_addr(name):
    params, c_in = CASES[name]
    assert_passes("snn_scatter_addr", SRC, params, "cocotb_scatter_addr",
                  extra_env={"SNNHW_SCATTER_C_IN": str(c_in)})


GEOMETRY = ("snn_scatter_addr: geometry H_IN {H_IN} W_IN {W_IN} H_OUT {H_OUT} W_OUT {W_OUT} KH {KH} KW {KW} "
            "SH {SH} SW {SW} PT {PT} PL {PL} is not mappable")
GROUPS_MSG = ("snn_scatter_addr: GROUPS ({GROUPS}) must be >= 1, TARGET_CHANNEL_DIV ({TARGET_CHANNEL_DIV}) and "
              "WEIGHT_BASE ({WEIGHT_BASE}) >= 0")
WIDTH_MSG = "snn_scatter_addr: TAW ({TAW}), WAW ({WAW}) or GW ({GW}) too narrow for {GROUPS} group(s) of {HW} outputs"
COLS_MSG = "snn_scatter_addr: COLS ({COLS}) must be 1, or KW ({KW}) with SW ({SW}) = 1 and weights; COL_MXW {COL_MXW}"
OUT_MSG = "snn_scatter_addr: OYW ({OYW}) / OXW ({OXW}) cannot hold H_OUT {H_OUT} / W_OUT {W_OUT}"
BAD = {
    "kh0": (dict(KH=0), GEOMETRY),
    "pt-1": (dict(PT=-1), GEOMETRY),
    "pl-1": (dict(PL=-1), GEOMETRY),
    "h_out0": (dict(H_OUT=0, OYW=1), GEOMETRY),
    "w_in0": (dict(W_IN=0), GEOMETRY),
    "groups0": (dict(GROUPS=0, WEIGHT_BASE=0), GROUPS_MSG),
    "div-1": (dict(GROUPS=1, TARGET_CHANNEL_DIV=-1, WEIGHT_BASE=0), GROUPS_MSG),
    "base-1": (dict(WEIGHT_BASE=-1), GROUPS_MSG),
    "taw-narrow": (dict(TAW=6), WIDTH_MSG),                        # 3 groups of 5x6 need 7 bits
    "taw-narrow-div": (dict(GROUPS=1, TARGET_CHANNEL_DIV=0, TAW=4), WIDTH_MSG),   # 30 outputs
    "gw-narrow": (dict(GW=1), WIDTH_MSG),
    "waw32": (dict(WAW=32), WIDTH_MSG),
    "oyw-narrow": (dict(OYW=2), OUT_MSG),
    "oxw-narrow": (dict(OXW=2), OUT_MSG),
    "cols2-kw3": (dict(COLS=2, COL_MXW=1), COLS_MSG),
    "cols3-sw2": (dict(COLS=3, COL_MXW=2, SW=2), COLS_MSG),
    "cols3-no-weights": (dict(COLS=3, COL_MXW=2, WEIGHTS=0), COLS_MSG),
    "col-mxw-narrow": (dict(COLS=3, COL_MXW=1), COLS_MSG),
}


@pytest.mark.parametrize("name", list(BAD))
def test_scatter_addr_param_check(name):
    change, template = BAD[name]
    params = dict(BASE, **change)
    expect_param_error("snn_scatter_addr", SRC, params,
                       template.format(HW=params["H_OUT"] * params["W_OUT"], **params))
