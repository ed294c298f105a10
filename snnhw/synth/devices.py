"""FPGA targets, named devices and their capacities.

Capacities are the vendors' data-sheet figures (logic LUTs, flip-flops, block
RAM primitives, DSP primitives, user IO of the default package). Block RAM is
counted in the primitive Yosys maps to: DP16KD (18 kbit) on ECP5,
SB_RAM40_4K (4 kbit) on iCE40, and RAMB36E1 equivalents (36 kbit; a RAMB18E1
is half of one) on Xilinx 7.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from snnhw.errors import OptionError

TARGETS = ("ecp5", "ice40", "xilinx7", "generic")


@dataclass(frozen=True)
class Device:
    name: str  # canonical name, e.g. 'LFE5U-85F'
    target: str
    luts: int
    ffs: int
    brams: int  # primitives as counted in SynthResult.bram (RAMB36 equivalents on Xilinx 7)
    dsps: int
    package: str = ""
    io: int = 0  # user IO pins of that package
    speed: str = ""
    pnr_args: tuple = ()  # nextpnr device arguments (without package/speed)
    notes: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    name: str
    yosys_cmd: str  # the synth command (without -top / outputs)
    bram_cells: dict  # primitive name -> weight (RAMB18E1 = 0.5 of a RAMB36E1)
    bram_name: str
    dsp_cells: tuple
    dsp_name: str
    # block RAM aspect ratios usable for a simple dual-port RAM / ROM: (depth, width) of one primitive
    bram_shapes: tuple
    default_device: str | None
    pnr: str | None  # 'ecp5' | 'ice40' | None


TARGET_INFO = {
    "ecp5": Target("ecp5", "synth_ecp5", {"DP16KD": 1, "PDPW16KD": 1}, "DP16KD", ("MULT18X18D", "ALU54B"),
                   "MULT18X18D", ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)),
                   "LFE5U-85F", "ecp5"),
    "ice40": Target("ice40", "synth_ice40", {"SB_RAM40_4K": 1, "SB_RAM40_4KNR": 1, "SB_RAM40_4KNW": 1,
                                             "SB_RAM40_4KNRNW": 1}, "SB_RAM40_4K", ("SB_MAC16",), "SB_MAC16",
                    ((2048, 2), (1024, 4), (512, 8), (256, 16)), "iCE40-HX8K", "ice40"),
    "xilinx7": Target("xilinx7", "synth_xilinx -family xc7 -flatten", {"RAMB36E1": 1, "RAMB18E1": 0.5}, "RAMB36E1",
                      ("DSP48E1",), "DSP48E1",
                      ((32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72)),
                      "xc7a100t", None),
    "generic": Target("generic", "synth", {}, "memory bits", (), "$mul", (), None, None),
}

_D = Device
DEVICES = {d.name: d for d in [
    # ECP5: one flip-flop per LUT; DP16KD = 18 kbit; MULT18X18D count (2 per sysDSP slice)
    _D("LFE5U-12F", "ecp5", 12288, 12288, 32, 28, "CABGA381", 197, "8", ("--12k",)),
    _D("LFE5U-25F", "ecp5", 24288, 24288, 56, 28, "CABGA381", 197, "8", ("--25k",)),
    _D("LFE5U-45F", "ecp5", 43848, 43848, 108, 72, "CABGA381", 203, "8", ("--45k",)),
    _D("LFE5U-85F", "ecp5", 83640, 83640, 208, 156, "CABGA381", 205, "8", ("--85k",)),
    _D("LFE5UM-85F", "ecp5", 83640, 83640, 208, 156, "CABGA381", 205, "8", ("--um-85k",)),
    # iCE40: SB_RAM40_4K = 4 kbit. UP5K also has 4 SPRAM (1 Mbit single-port) that the
    # simple dual-port engine memories cannot use.
    _D("iCE40-HX1K", "ice40", 1280, 1280, 16, 0, "tq144", 95, "", ("--hx1k",)),
    _D("iCE40-HX8K", "ice40", 7680, 7680, 32, 0, "ct256", 206, "", ("--hx8k",)),
    _D("iCE40-LP8K", "ice40", 7680, 7680, 32, 0, "ct256", 206, "", ("--lp8k",)),
    _D("iCE40-UP5K", "ice40", 5280, 5280, 30, 8, "sg48", 39, "", ("--up5k",),
       notes="plus 4 SPRAM256KA (1 Mbit, single-port; not used by the engines' dual-port memories)"),
    # Xilinx 7: BRAM in RAMB36E1 (36 kbit) equivalents
    _D("xc7a35t", "xilinx7", 20800, 41600, 50, 90, "csg324", 210),
    _D("xc7a50t", "xilinx7", 32600, 65200, 75, 120, "csg324", 210),
    _D("xc7a100t", "xilinx7", 63400, 126800, 135, 240, "csg324", 210),
    _D("xc7a200t", "xilinx7", 134600, 269200, 365, 740, "sbg484", 285),
    _D("xc7z010", "xilinx7", 17600, 35200, 60, 80, "clg400", 100),
    _D("xc7z020", "xilinx7", 53200, 106400, 140, 220, "clg400", 125),
    _D("xc7k325t", "xilinx7", 203800, 407600, 445, 840, "ffg900", 500),
]}

_ALIASES = {
    "25f": "LFE5U-25F", "25k": "LFE5U-25F", "lfe5u-25": "LFE5U-25F", "12f": "LFE5U-12F", "12k": "LFE5U-12F",
    "45f": "LFE5U-45F", "45k": "LFE5U-45F", "85f": "LFE5U-85F", "85k": "LFE5U-85F", "um-85k": "LFE5UM-85F",
    "hx1k": "iCE40-HX1K", "hx8k": "iCE40-HX8K", "lp8k": "iCE40-LP8K", "up5k": "iCE40-UP5K",
    "ice40hx8k": "iCE40-HX8K", "ice40up5k": "iCE40-UP5K", "ice40hx1k": "iCE40-HX1K",
}


def check_target(target: str) -> Target:
    if target not in TARGET_INFO:
        raise OptionError(f"unknown synthesis target {target!r}; choose one of {', '.join(TARGETS)}")
    return TARGET_INFO[target]


def get_device(name: str | None, target: str) -> Device | None:
    """Look up a device by name (case-insensitive, aliases like '85k', 'up5k', 'xc7a35t-1csg324')."""
    t = check_target(target)
    if name is None:
        name = t.default_device
        if name is None:
            return None
    key = str(name).strip()
    canon = {k.lower(): k for k in DEVICES}
    low = key.lower().replace("_", "-")
    dev = None
    if low in canon:
        dev = DEVICES[canon[low]]
    elif low in _ALIASES:
        dev = DEVICES[_ALIASES[low]]
    elif low.startswith("ice40-") and low[6:] in _ALIASES:
        dev = DEVICES[_ALIASES[low[6:]]]
    else:  # Xilinx part numbers with speed/package suffix: xc7a35t-1csg324c, xc7a35ticsg324-1L
        for k in DEVICES:
            if k.startswith("xc7") and low.startswith(k.lower()):
                dev = DEVICES[k]
                break
    if dev is None:
        known = ", ".join(k for k, d in DEVICES.items() if d.target == target)
        raise OptionError(f"unknown {target} device {name!r}; known: {known}")
    if dev.target != target:
        raise OptionError(f"device {dev.name} is a {dev.target} part, not {target}")
    return dev


def devices_for(target: str) -> list:
    return [d for d in DEVICES.values() if d.target == target]


def primitives_for_memory(depth: int, width: int, shapes) -> int:
    """Fewest block-RAM primitives (of the given aspect ratios) that hold depth x width."""
    if not shapes or depth <= 0 or width <= 0:
        return 0
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in shapes)


def bram_lower_bound(memories, target: str) -> float:
    """Primitives that the manifest's block memories need at least (RAMB36 units on Xilinx 7).

    ``memories``: the manifest's :class:`~snnhw.codegen.manifest.Memory` list (or dicts with depth,
    width and style). On Xilinx 7 a memory is counted in RAMB18 halves where one fits.
    """
    t = check_target(target)
    total = 0.0
    for m in memories:
        depth, width, style = (m["depth"], m["width"], m.get("style")) if isinstance(m, dict) else (
            m.depth, m.width, m.style)
        if style != "block":
            continue
        if target == "xilinx7":
            r18 = primitives_for_memory(depth, width,
                                        ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)))
            r36 = primitives_for_memory(depth, width, t.bram_shapes)
            total += min(r18 * 0.5, float(r36))
        else:
            total += primitives_for_memory(depth, width, t.bram_shapes)
    return total
