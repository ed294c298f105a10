"""snn_ram (snnhw/rtl_lib/snn_ram.v): reads after writes with every OUTREG, flat and banked (several banks,
the last one partial), against a register-level model; every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_ram", "snn_delay")
CASES = [
    dict(WIDTH=8, DEPTH=16, AW=4, OUTREG=0, BLOCK=1, BANK_AW=0),
    dict(WIDTH=5, DEPTH=13, AW=4, OUTREG=1, BLOCK=0, BANK_AW=0),
    dict(WIDTH=16, DEPTH=20, AW=6, OUTREG=2, BLOCK=1, BANK_AW=0),
    dict(WIDTH=8, DEPTH=10, AW=4, OUTREG=2, BLOCK=1, BANK_AW=2),    # banks of 4, 4, 2 words
    dict(WIDTH=3, DEPTH=64, AW=6, OUTREG=2, BLOCK=1, BANK_AW=4),    # four full banks
    dict(WIDTH=12, DEPTH=9, AW=5, OUTREG=2, BLOCK=0, BANK_AW=2),    # 4, 4, 1 words; spare select bits
    dict(WIDTH=24, DEPTH=70, AW=7, OUTREG=1, BLOCK=2, BANK_AW=0),   # LUT RAM (a membrane column bank)
]
GOOD = dict(WIDTH=8, DEPTH=16, AW=4, OUTREG=0, BLOCK=1, BANK_AW=0)


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_ram(params):
    assert_passes("snn_ram", SRC, params, "cocotb_ram")


@pytest.mark.parametrize("params, message", [
    (dict(WIDTH=0), "snn_ram: WIDTH (0) must be >= 1"),
    (dict(DEPTH=0), "snn_ram: DEPTH (0) must be >= 1"),
    (dict(AW=0, DEPTH=1), "snn_ram: AW (0) must be >= 1"),
    (dict(DEPTH=17), "snn_ram: AW (4) is too narrow for DEPTH (17) words"),
    (dict(OUTREG=3), "snn_ram: OUTREG (3) must be 0, 1 or 2"),
    (dict(OUTREG=-1), "snn_ram: OUTREG (-1) must be 0, 1 or 2"),
    (dict(BLOCK=3), "snn_ram: BLOCK (3) must be 0, 1 or 2"),
    (dict(BANK_AW=-1), "snn_ram: BANK_AW (-1) must be >= 0"),
    (dict(BANK_AW=2, OUTREG=1), "snn_ram: BANK_AW > 0 needs OUTREG = 2 (OUTREG is 1)"),
    (dict(BANK_AW=4, OUTREG=2), "snn_ram: BANK_AW (4) must be < AW (4): no bank select bits"),
], ids=["width0", "depth0", "aw0", "aw-narrow", "outreg3", "outreg-1", "block3", "bank_aw-1", "bank-outreg1",
        "bank_aw-ge-aw"])
def test_ram_param_check(params, message):
    expect_param_error("snn_ram", SRC, dict(GOOD, **params), message)
