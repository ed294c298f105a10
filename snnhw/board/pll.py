"""ECP5 PLL (EHXPLLL) settings for a wanted output clock, as Project Trellis' ecppll computes them.

CLKOP feeds back, so ``f_out = f_in · CLKFB_DIV / CLKI_DIV`` and the VCO runs
at ``f_out · CLKOP_DIV``. The data sheet's limits: phase detector input
3.125–400 MHz, VCO 400–800 MHz, CLKOP 3.125–400 MHz. The dividers are those
ecppll picks (tests/test_boards.py compares them); CLKOP_CPHASE only sets
CLKOP's phase against the oscillator, which nothing in the board top depends on.
"""
from __future__ import annotations

from dataclasses import dataclass

from snnhw.errors import OptionError

PFD_MIN, PFD_MAX = 3.125, 400.0
VCO_MIN, VCO_MAX = 400.0, 800.0
OUT_MIN, OUT_MAX = 3.125, 400.0


@dataclass(frozen=True)
class PllSettings:
    clki_div: int
    clkfb_div: int
    clkop_div: int
    clkop_cphase: int
    f_in_mhz: float
    f_out_mhz: float  # what the PLL really gives

    @property
    def f_vco_mhz(self) -> float:
        return self.f_out_mhz * self.clkop_div


def ecp5_pll(f_in_mhz: float, f_out_mhz: float, tolerance: float = 0.0) -> PllSettings:
    """The divider settings giving the output nearest ``f_out_mhz`` (ties: the VCO nearest 600 MHz).

    Raises OptionError when the best output is more than ``tolerance`` (relative) away.
    """
    if not OUT_MIN <= f_out_mhz <= OUT_MAX:
        raise OptionError(f"clock {f_out_mhz:g} MHz: an ECP5 PLL gives {OUT_MIN:g} to {OUT_MAX:g} MHz")
    best, best_key = None, None
    for clki in range(1, 129):
        pfd = f_in_mhz / clki
        if not PFD_MIN <= pfd <= PFD_MAX:
            continue
        for fb in range(1, 81):
            out = pfd * fb
            if not OUT_MIN <= out <= OUT_MAX:
                continue
            op = max(1, round(600.0 / out))  # the divider that puts the VCO nearest mid-range (600 MHz)
            for op_div in sorted({op - 1, op, op + 1} - {0}):
                vco = out * op_div
                if not VCO_MIN <= vco <= VCO_MAX or op_div > 128:
                    continue
                key = (abs(out - f_out_mhz), abs(vco - 600.0), clki)
                if best_key is None or key < best_key:
                    best_key = key
                    best = PllSettings(clki, fb, op_div, op_div // 2 - 1 if op_div > 1 else 0, f_in_mhz, out)
    if best is None:
        raise OptionError(f"no ECP5 PLL setting makes {f_out_mhz:g} MHz from {f_in_mhz:g} MHz")
    if abs(best.f_out_mhz - f_out_mhz) > tolerance * f_out_mhz + 1e-9:
        raise OptionError(f"clock {f_out_mhz:g} MHz: the nearest an ECP5 PLL makes from {f_in_mhz:g} MHz is "
                          f"{best.f_out_mhz:.4g} MHz; ask for that")
    return best
