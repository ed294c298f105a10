"""Resource counts from Yosys ``stat -json`` output, per target.

LUT counting (documented in docs/synthesis.md):

- ECP5: LUT4 + 2 per CCU2C (a carry cell holds two LUT4s) + 6 per
  TRELLIS_DPR16X4 (16x4 distributed RAM takes three slices). FFs: TRELLIS_FF.
- iCE40: SB_LUT4 (SB_CARRY shares the logic cell). FFs: SB_DFF*.
- Xilinx 7: LUT1-LUT6 + LUT RAM / shift registers in LUT6 sites (RAM32M and
  RAM64M: 4, RAM32X1D/RAM64X1D: 2, RAM128X1D: 4, SRL16E/SRLC32E: 1).
  FFs: FDRE/FDSE/FDCE/FDPE/LDCE/LDPE. BRAM in RAMB36E1 equivalents.
- generic: ``$lut`` cells from ``abc -lut 6``; FFs: every ``$_*DFF*`` cell;
  memories stay abstract ``$mem_v2`` and are reported as memory bits.
"""
from __future__ import annotations

import json
import re

from snnhw.synth.devices import TARGET_INFO

_XILINX_LUTRAM = {"RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "RAM32X1D": 2, "RAM64X1D": 2,
                  "RAM128X1D": 4, "RAM256X1D": 8, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4,
                  "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1}
_XILINX_FF = {"FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE"}
_MEM_CELLS = ("$mem", "$mem_v2", "$memrd", "$memrd_v2", "$memwr", "$memwr_v2", "$meminit", "$meminit_v2")


def load_stat_json(text: str) -> dict:
    """Parse the JSON Yosys writes for ``stat -json`` (tolerates a log prefix)."""
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the Yosys stat output")
    return json.loads(text[start:])


def _clean(name: str) -> str:
    return name[1:] if name.startswith("\\") else name


def cell_counts(stat: dict, top: str | None = None) -> dict:
    """Cell type -> count for the whole design under ``top`` (flattened designs: the top module)."""
    design = stat.get("design")
    if design and "num_cells_by_type" in design:
        cells = design["num_cells_by_type"]
    else:
        mods = stat.get("modules", {})
        key = None
        for k in mods:
            if top is not None and _clean(k) == top:
                key = k
        if key is None:
            if len(mods) != 1:
                raise ValueError(f"cannot tell the top module among {list(mods)}")
            key = next(iter(mods))
        cells = mods[key].get("num_cells_by_type", {})
    return {_clean(k): int(v) for k, v in cells.items()}


def mem_v2_bits(rtlil: str) -> int:
    """Total bits of the ``$mem_v2`` cells in an RTLIL dump (``dump t:$mem_v2``)."""
    total = 0
    for cell in rtlil.split("cell $mem_v2")[1:]:
        size = re.search(r"parameter \\SIZE (\d+)", cell)
        width = re.search(r"parameter \\WIDTH (\d+)", cell)
        if size and width:
            total += int(size.group(1)) * int(width.group(1))
    return total


def summarize(cells: dict, target: str) -> dict:
    """LUTs, FFs, BRAMs, DSPs, leftover abstract memories and a few details from cell counts."""
    t = TARGET_INFO[target]
    luts = ffs = 0
    lutram = 0
    if target == "ecp5":
        luts = cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0)
        lutram = 6 * cells.get("TRELLIS_DPR16X4", 0)
        ffs = cells.get("TRELLIS_FF", 0) + sum(v for k, v in cells.items() if re.fullmatch(r"FD1[SP]3\w+", k))
    elif target == "ice40":
        luts = cells.get("SB_LUT4", 0)
        ffs = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
    elif target == "xilinx7":
        luts = sum(v for k, v in cells.items() if re.fullmatch(r"LUT[1-6]", k))
        lutram = sum(_XILINX_LUTRAM.get(k, 0) * v for k, v in cells.items())
        ffs = sum(v for k, v in cells.items() if k in _XILINX_FF)
    else:
        luts = cells.get("$lut", 0)
        ffs = sum(v for k, v in cells.items() if k.startswith("$_") and ("DFF" in k or "DLATCH" in k))
        ffs += sum(v for k, v in cells.items() if k in ("$dff", "$sdff", "$adff", "$dffe", "$sdffe", "$sdffce",
                                                          "$adffe", "$aldff", "$dlatch"))
    bram = sum(cells.get(k, 0) * w for k, w in t.bram_cells.items())
    dsp = sum(cells.get(k, 0) for k in t.dsp_cells)
    if target == "generic":
        dsp = cells.get("$mul", 0)
    mem_left = sum(v for k, v in cells.items() if k in _MEM_CELLS)
    return dict(luts=int(luts + lutram), luts_logic=int(luts), lutram_luts=int(lutram), ffs=int(ffs),
                bram=bram if isinstance(bram, int) or bram != int(bram) else int(bram), dsp=int(dsp),
                abstract_memories=int(mem_left),
                cells=int(sum(v for k, v in cells.items() if k != "$scopeinfo")))
