"""Wrap a build directory's accelerator for a board: ``BUILD/board/`` with the board top, its pins and board.json.

``write_board_files(BUILD, board)`` renders ``snn_board_top.v`` (library
modules wired by ``snnhw/rtl_templates/snn_board_top.v.j2``: PLL, reset
generator, UART, host link, snn_top, status LEDs), the LPF constraints of its
ports on the board and ``board.json``, which ``snnhw synth --board``,
``snnhw run`` and ``snnhw program`` read.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import jinja2

import snnhw
from snnhw.board import protocol
from snnhw.board.boards import Board, lpf
from snnhw.board.build_info import BoardBuild, board_json_path
from snnhw.codegen.generate import exit_port_values
from snnhw.reference.early_exit import ExitRule
from snnhw.board.pll import PllSettings, ecp5_pll
from snnhw.codegen.manifest import load_manifest
from snnhw.errors import OptionError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "rtl_templates"
BOARD_SUBDIR = "board"
BOARD_TOP = "snn_board_top"
# the library modules snn_board_top instantiates besides snn_top's
BOARD_MODULES = ("snn_ecp5_pll", "snn_reset_gen", "snn_uart_rx", "snn_uart_tx", "snn_host_link", "snn_status_leds")
IDLE_TIMEOUT_S = 0.05  # longer than the gaps a USB serial bridge leaves inside one frame
MAX_BAUD_ERROR = 0.02
MIN_UART_DIVISOR = 4
STATUS_LEDS = 8


@dataclass(frozen=True)
class LinkTiming:
    clock_hz: int
    baud: int
    uart_divisor: int
    idle_cycles: int


def link_timing(clock_hz: int, baud: int) -> LinkTiming:
    """The UART divisor for ``baud`` at ``clock_hz`` (within 2 %) and the idle timeout in cycles."""
    if baud <= 0:
        raise OptionError(f"--baud {baud}: must be positive")
    div = round(clock_hz / baud)
    if div < MIN_UART_DIVISOR:
        raise OptionError(f"--baud {baud}: at {clock_hz / 1e6:g} MHz that is {clock_hz / baud:.2f} clocks per bit; "
                          f"the UART needs at least {MIN_UART_DIVISOR}")
    err = abs(clock_hz / div - baud) / baud
    if err > MAX_BAUD_ERROR:
        raise OptionError(f"--baud {baud}: {clock_hz / 1e6:g} MHz / {div} = {clock_hz / div:.0f} baud, "
                          f"{100 * err:.1f} % off (at most {100 * MAX_BAUD_ERROR:g} %): pick a rate that divides the "
                          f"clock")
    return LinkTiming(clock_hz, baud, div, max(16 * 10 * div, int(IDLE_TIMEOUT_S * clock_hz)))


def design_id(build_dir) -> int:
    """32-bit identity of the accelerator: a hash of snn_top.v and every memory image."""
    build_dir = Path(build_dir)
    h = hashlib.sha256()
    for p in [build_dir / "rtl" / "snn_top.v", *sorted((build_dir / "mem").glob("*.hex"))]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return int.from_bytes(h.digest()[:4], "little")


def _clog2(n: int) -> int:
    return max(1, math.ceil(math.log2(n))) if n > 1 else 1


def write_board_files(build_dir, board: Board, clock_mhz: float | None = None, baud: int | None = None,
                      default_timesteps: int | None = None) -> BoardBuild:
    """Write ``BUILD/board/`` for ``board``; returns what board.json says."""
    build_dir = Path(build_dir)
    manifest = load_manifest(build_dir)
    manifest.require_files(build_dir, "rtl")
    missing = [m for m in BOARD_MODULES if f"{m}.v" not in manifest.rtl]
    if missing:
        raise OptionError(f"{build_dir}: the build lacks the board modules {', '.join(missing)}: regenerate it with "
                          f"this snnhw ({snnhw.__version__})")
    clock_mhz = float(clock_mhz or board.default_clock_mhz)
    pll: PllSettings = ecp5_pll(board.clock_mhz, clock_mhz, tolerance=0.0)
    clock_hz = int(round(pll.f_out_mhz * 1e6))
    timing = link_timing(clock_hz, int(baud or board.default_baud))
    itf = manifest.interface
    beat_bits = itf.m_axis.tdata_bits
    t_max = itf.max_timesteps
    default_t = int(default_timesteps or manifest.vectors.timesteps)
    if not 1 <= default_t <= t_max:
        raise OptionError(f"--timesteps {default_t}: the design runs 1..{t_max} steps")
    if protocol.RESULT_HEADER_BYTES + (t_max + itf.classes) * beat_bits // 8 > protocol.MAX_PAYLOAD:
        raise OptionError(f"{build_dir}: a RESULT for T_MAX = {t_max} would exceed a frame's {protocol.MAX_PAYLOAD} "
                          f"bytes: generate with a smaller --timesteps")
    did = design_id(build_dir)
    ex = manifest.exit  # the build's early-exit rule: the host link's exit rule after reset (CONFIG changes it)
    if ex.margin_bits > 32:
        raise OptionError(f"{build_dir}: cfg_exit_margin is {ex.margin_bits} bits wide, more than the host link's "
                          f"u32 exit margin carries")
    exit_margin, exit_min_steps = exit_port_values(ExitRule(ex.margin, ex.min_steps), ex.margin_bits - 1,
                                                   itf.cfg_timesteps_bits)
    ctx = dict(
        title=board.title, protocol_version=protocol.VERSION, osc_mhz=f"{board.clock_mhz:g}",
        clock_mhz=f"{pll.f_out_mhz:g}", clock_hz=clock_hz, baud=timing.baud, uart_divisor=timing.uart_divisor,
        idle_cycles=timing.idle_cycles, reset_hold_cycles=16,
        heartbeat_bits=max(2, round(math.log2(clock_hz / 1.5))), has_reset=board.reset is not None,
        reset_active_high=board.reset_active_high, leds=max(1, len(board.leds)), status_leds=STATUS_LEDS,
        led_meaning=", ".join(["heartbeat", "PLL locked", "busy", "error", "class bit 0", "class bit 1",
                               "class bit 2", "class bit 3"][:max(1, len(board.leds))]),
        lpf_name=f"{board.name}.lpf", constraints_source=board.constraints_source, pll=pll,
        pixels=itf.pixels_per_image, pixel_aw=_clog2(itf.pixels_per_image), beat_bits=beat_bits,
        classes=itf.classes, t_max=t_max, step_w=itf.cfg_timesteps_bits, result_aw=_clog2(t_max + itf.classes),
        default_timesteps=default_t, design_id_hex=f"{did:08x}", exit_margin_bits=ex.margin_bits,
        exit_margin=exit_margin, exit_min_steps=exit_min_steps)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    options = (f"board={board.name} clock={pll.f_out_mhz:g} MHz baud={timing.baud} "
               f"design_id=0x{did:08x}")
    verilog = env.get_template("snn_board_top.v.j2").render(
        B=ctx, module=BOARD_TOP, version=snnhw.__version__, source_note=manifest.source.replace("\n", " "),
        options=options)
    out = build_dir / BOARD_SUBDIR
    out.mkdir(exist_ok=True)
    (out / f"{BOARD_TOP}.v").write_text(verilog)
    (out / f"{board.name}.lpf").write_text(lpf(board, pll.f_out_mhz))
    info = BoardBuild(
        board=board.name, title=board.title, device=board.device, package=board.package, speed=board.speed,
        board_file=board.source_file, constraints_source=board.constraints_source, clock_hz=clock_hz,
        baud=timing.baud, uart_divisor=timing.uart_divisor, idle_cycles=timing.idle_cycles, design_id=did,
        default_timesteps=default_t, openfpgaloader_board=board.openfpgaloader_board, host_link=board.host_link,
        top=BOARD_TOP, rtl=[f"{BOARD_SUBDIR}/{BOARD_TOP}.v"], lpf=f"{BOARD_SUBDIR}/{board.name}.lpf",
        bitstream=f"{BOARD_SUBDIR}/{BOARD_TOP}.bit", svf=f"{BOARD_SUBDIR}/{BOARD_TOP}.svf",
        pll=dict(clki_div=pll.clki_div, clkfb_div=pll.clkfb_div, clkop_div=pll.clkop_div,
                 clkop_cphase=pll.clkop_cphase, vco_mhz=pll.f_vco_mhz))
    info.write(board_json_path(build_dir))
    return info
