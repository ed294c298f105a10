"""snn_rom (snnhw/rtl_lib/snn_rom.v): the INIT_FILE words read back with every OUTREG, block and small
tables; every parameter check."""
import random

import pytest

from harness import assert_passes, build_module, expect_param_error, lib_sources

SRC = lib_sources("snn_rom", "snn_delay")
CASES = [
    dict(WIDTH=8, DEPTH=16, AW=4, OUTREG=0),                          # small table (LUTs)
    dict(WIDTH=16, DEPTH=200, AW=8, OUTREG=1),                        # >= 2048 bits: rom_style = "block"
    dict(WIDTH=5, DEPTH=7, AW=3, OUTREG=2, BLOCK_MIN_BITS=16),        # small, but marked block
]
GOOD = dict(WIDTH=8, DEPTH=16, AW=4, OUTREG=0)


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


def write_hex(path, width, depth, seed):
    rng = random.Random(seed)
    digits = -(-width // 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{rng.randrange(1 << width):0{digits}x}\n" for _ in range(depth)))


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_rom(params):
    params = dict(params, INIT_FILE='"mem/rom.hex"')   # relative to the simulation's directory
    build = build_module("snn_rom", SRC, params)
    write_hex(build / "mem" / "rom.hex", params["WIDTH"], params["DEPTH"], seed=params["DEPTH"])
    assert_passes("snn_rom", SRC, params, "cocotb_rom")


@pytest.mark.parametrize("params, message", [
    (dict(WIDTH=0), "snn_rom: WIDTH (0) must be >= 1"),
    (dict(DEPTH=0), "snn_rom: DEPTH (0) must be >= 1"),
    (dict(AW=0, DEPTH=1), "snn_rom: AW (0) must be >= 1"),
    (dict(DEPTH=17), "snn_rom: AW (4) is too narrow for DEPTH (17) words"),
    (dict(OUTREG=3), "snn_rom: OUTREG (3) must be 0, 1 or 2"),
    (dict(OUTREG=-1), "snn_rom: OUTREG (-1) must be 0, 1 or 2"),
    (dict(BLOCK_MIN_BITS=-1), "snn_rom: BLOCK_MIN_BITS (-1) must be >= 0"),
], ids=["width0", "depth0", "aw0", "aw-narrow", "outreg3", "outreg-1", "block_min-1"])
def test_rom_param_check(params, message):
    expect_param_error("snn_rom", SRC, dict(GOOD, **params), message)
