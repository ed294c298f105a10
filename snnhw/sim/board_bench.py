"""cocotb bench: the board top as a board on a pseudo-terminal (run by snnhw.sim.board_sim).

The oscillator is driven at 100 MHz (the PLL is bypassed: clk = clk_osc), the
UART pins are joined to cocotbext-uart's source and sink at the build's
simulation baud rate (UART_DIVISOR clocks per bit), and the bytes of a
pseudo-terminal's master side are bridged to and from them. A host program
opens the terminal's other side as it would open /dev/ttyUSB0. The bench
runs until the stop file appears or the wall-clock limit passes.
"""
from __future__ import annotations

import logging
import os
import time
import tty
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Timer

CLOCK_NS = 10


@cocotb.test()
async def serve(dut):
    from cocotbext.uart import UartSink, UartSource

    divisor = int(os.environ["SNNHW_UART_DIVISOR"])
    link_file = Path(os.environ["SNNHW_PTY_FILE"])
    stop_file = Path(os.environ["SNNHW_STOP_FILE"])
    wall_limit = float(os.environ.get("SNNHW_WALL_LIMIT", "3600"))
    baud = 1e9 / (CLOCK_NS * divisor)

    Clock(dut.clk_osc, CLOCK_NS, unit="ns").start()
    if hasattr(dut, "btn_reset"):
        dut.btn_reset.value = int(os.environ.get("SNNHW_BUTTON_IDLE", "0"))
    dut.uart_rx.value = 1
    source = UartSource(dut.uart_rx, baud=baud, bits=8)
    sink = UartSink(dut.uart_tx, baud=baud, bits=8)
    for u in (source, sink):
        u.log.setLevel(logging.WARNING)  # one line per byte otherwise

    master, slave = os.openpty()
    tty.setraw(slave)  # the host side reconfigures it anyway; raw keeps bytes intact before it opens
    os.set_blocking(master, False)
    name = os.ttyname(slave)
    tmp = link_file.with_name(link_file.name + ".partial")
    tmp.write_text(name + "\n")
    os.replace(tmp, link_file)
    dut._log.info("board simulation listening on %s (UART %d clocks per bit)", name, divisor)

    await ClockCycles(dut.clk_osc, 4)
    char_ns = 10 * divisor * CLOCK_NS
    t0 = time.monotonic()
    polls = 0
    try:
        while True:
            try:
                data = os.read(master, 4096)
            except (BlockingIOError, OSError):
                data = b""
            if data:
                source.write_nowait(data)
            n = sink.count()
            if n:
                os.write(master, bytes(sink.read_nowait(n)))
            polls += 1
            if polls % 64 == 0 and (stop_file.exists() or time.monotonic() - t0 > wall_limit):
                break
            await Timer(char_ns, unit="ns")
    finally:
        os.close(master)
        os.close(slave)
