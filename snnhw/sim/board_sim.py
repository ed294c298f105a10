"""Simulate a build's board top (``BUILD/board/snn_board_top.v``) as a board behind a pseudo-terminal.

``serve_board(BUILD)`` verilates the board top with the PLL bypassed
(``SNNHW_PLL_BYPASS``) and a fast UART (``uart_divisor`` clocks per bit
instead of the board's), starts the cocotb bench :mod:`snnhw.sim.board_bench`
and returns a :class:`BoardSim` handle with the terminal's path; a host
program (``snnhw run BUILD --port PATH``) talks to it exactly as to a board
on a USB serial port. Everything between the UART pins is the RTL that
synthesis gets.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from snnhw.codegen.manifest import load_manifest
from snnhw.board.build_info import load_board_build
from snnhw.sim.runner import _save_runtime, _seed_runtime, _stamp
from snnhw.sim.tools import ToolError, apply_verilator_env

SIM_UART_DIVISOR = 8  # clocks per bit in simulation: 12.5 Mbaud at the bench's 100 MHz
SIM_IDLE_CHARACTERS = 64  # the idle timeout in simulation, in character times




def build_board_sim(build_dir, uart_divisor: int = SIM_UART_DIVISOR, verbose: bool = False) -> Path:
    """Verilate snn_board_top for simulation (cached per sources and parameters)."""
    from cocotb_tools.runner import get_runner

    build_dir = Path(build_dir).resolve()
    manifest = load_manifest(build_dir, require=("rtl", "mem"))
    info = load_board_build(build_dir)
    sources = manifest.rtl_paths(build_dir) + [build_dir / f for f in info.rtl]
    defines = {"SNNHW_PLL_BYPASS": 1, "SNNHW_ASSERT": 1}
    parameters = {"UART_DIVISOR": uart_divisor, "IDLE_CYCLES": SIM_IDLE_CHARACTERS * 10 * uart_divisor,
                  "HEARTBEAT_BITS": 8, "RESET_HOLD_CYCLES": 4}
    apply_verilator_env()
    sim_build = build_dir / "sim_build" / "board"
    stamp = _stamp(sources, {**defines, **parameters})
    stamp_file = sim_build / "snnhw.stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp and (sim_build / info.top).exists():
        return sim_build
    _seed_runtime(sim_build)
    log = build_dir / "sim" / "build_board.log"
    log.parent.mkdir(exist_ok=True)
    try:
        get_runner("verilator").build(
            sources=[str(s) for s in sources], hdl_toplevel=info.top, build_dir=str(sim_build), defines=defines,
            parameters=parameters, build_args=["-O2", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal"],
            timescale=("1ns", "1ps"), always=True, verbose=verbose, log_file=str(log))
    except (SystemExit, Exception) as exc:
        raise ToolError(f"Verilator build of the board top failed (see {log}): {exc}") from None
    stamp_file.write_text(stamp)
    _save_runtime(sim_build)
    return sim_build


@dataclass
class BoardSim:
    """A running board simulation: ``port`` is the pseudo-terminal to open; ``stop()`` ends it."""
    port: str
    process: subprocess.Popen
    stop_file: Path
    log_file: Path
    uart_divisor: int

    def stop(self, timeout: float = 60) -> int:
        self.stop_file.write_text("stop\n")
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def serve_board(build_dir, uart_divisor: int = SIM_UART_DIVISOR, wall_limit_s: float = 3600,
                start_timeout_s: float = 600, verbose: bool = False) -> BoardSim:
    """Build and start the board simulation in the background; returns once its terminal exists."""
    build_dir = Path(build_dir).resolve()
    info = load_board_build(build_dir)
    sim_build = build_board_sim(build_dir, uart_divisor, verbose=verbose)
    work = Path(tempfile.mkdtemp(prefix="board-sim-", dir=build_dir / "sim"))
    pty_file, stop_file, log = work / "pty", work / "stop", work / "sim.log"
    env = dict(os.environ)
    env.update({
        "SNNHW_UART_DIVISOR": str(uart_divisor), "SNNHW_PTY_FILE": str(pty_file), "SNNHW_STOP_FILE": str(stop_file),
        "SNNHW_WALL_LIMIT": str(wall_limit_s),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2])] + sys.path),
    })
    code = ("import sys; from cocotb_tools.runner import get_runner; "
            "get_runner('verilator').test(test_module='snnhw.sim.board_bench', hdl_toplevel=sys.argv[1], "
            "hdl_toplevel_lang='verilog', build_dir=sys.argv[2], test_dir=sys.argv[3], "
            "results_xml=sys.argv[4], log_file=sys.argv[5])")
    proc = subprocess.Popen([sys.executable, "-c", code, info.top, str(sim_build), str(build_dir),
                             str(work / "results.xml"), str(log)], env=env, cwd=str(build_dir),
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    t0 = time.monotonic()
    while not pty_file.exists():
        if proc.poll() is not None:
            raise ToolError(f"the board simulation stopped before it opened its terminal (see {log})")
        if time.monotonic() - t0 > start_timeout_s:
            proc.kill()
            raise ToolError(f"the board simulation did not open its terminal within {start_timeout_s:.0f} s "
                            f"(see {log})")
        time.sleep(0.1)
    return BoardSim(port=pty_file.read_text().strip(), process=proc, stop_file=stop_file, log_file=log,
                    uart_divisor=uart_divisor)
