"""cocotb tests of snn_uart_rx against cocotbext-uart's UartSource (an independent 8N1 sender) and a
hand-driven line for what UartSource cannot send (bad stop bits, breaks, glitches, exact edge times).

Parameters come from ``SNNHW_PARAMS`` (JSON); ``SNNHW_UART_TOL`` gives the baud mismatches to test
("+0.03,-0.03"). The clock period is 100 ns so that a bit of DIVISOR cycles off by 3 % is a whole number
of ns (UartSource truncates its bit time to whole ns).

A monitor checks every cycle: m_valid and frame_error never together, and each of them only in the cycle
where ``active`` falls after exactly HALF + 9 * DIVISOR active cycles (a character from its start edge to
its stop sample); ``active`` falling after exactly HALF cycles is a rejected glitch; no other run length.
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer
from cocotbext.uart import UartSource

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
DIVISOR = int(PARAMS.get("DIVISOR", 16))
TOL = [float(t) for t in os.environ.get("SNNHW_UART_TOL", "+0.03,-0.03").split(",")]
CLK_NS = 100
BIT_NS = CLK_NS * DIVISOR
HALF = (DIVISOR - 1) // 2                 # cycles from the seen start edge to the start check
CHAR_ACTIVE = HALF + 9 * DIVISOR          # cycles active is high for a whole character


def source(dut, bit_ns):
    """A UartSource with a bit time of exactly bit_ns (it computes int(1e9 / baud) ns)."""
    return UartSource(dut.rx, baud=1e9 / (bit_ns + 0.5), bits=8, stop_bits=1)


class Monitor:
    """Every cycle's outputs, after each rising edge."""

    def __init__(self, dut):
        self.dut = dut
        self.bytes, self.errors, self.glitches = [], 0, 0
        self.cycle, self.run = 0, 0
        self.valid_cycles, self.active_rise_cycles = [], []
        self.prev_active = 0

    async def watch(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            self.cycle += 1
            if int(dut.rst.value):
                self.run, self.prev_active = 0, 0
                continue
            valid, err, active = int(dut.m_valid.value), int(dut.frame_error.value), int(dut.active.value)
            assert not (valid and err), f"cycle {self.cycle}: m_valid and frame_error together"
            if active:
                if not self.prev_active:
                    self.active_rise_cycles.append(self.cycle)
                self.run += 1
            elif self.prev_active:   # active fell: a whole character or a rejected glitch
                if valid or err:
                    assert self.run == CHAR_ACTIVE, \
                        f"cycle {self.cycle}: character after {self.run} active cycles, expected {CHAR_ACTIVE}"
                else:
                    assert self.run == HALF, \
                        f"cycle {self.cycle}: active fell after {self.run} cycles without a byte (glitch: {HALF})"
                    self.glitches += 1
                self.run = 0
            if (valid or err) and (active or not self.prev_active):
                raise AssertionError(f"cycle {self.cycle}: m_valid/frame_error outside the stop sample")
            if valid:
                self.bytes.append(int(dut.m_data.value))
                self.valid_cycles.append(self.cycle)
            self.errors += err
            self.prev_active = active


async def start(dut):
    cocotb.start_soon(Clock(dut.clk, CLK_NS, unit="ns").start())
    dut.rx.value = 1
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    mon = Monitor(dut)
    cocotb.start_soon(mon.watch())
    for _ in range(3):
        await RisingEdge(dut.clk)
    return mon


async def drive(dut, levels):
    """Drive the line: (level, ns) pairs."""
    for level, ns in levels:
        dut.rx.value = level
        if ns:
            await Timer(ns, unit="ns")


def char_levels(byte, bit_ns, stop=1):
    return [(0, bit_ns)] + [((byte >> k) & 1, bit_ns) for k in range(8)] + [(stop, bit_ns)]


async def idle(dut, bits):
    await Timer(int(bits * BIT_NS), unit="ns")
    await ReadOnly()
    assert int(dut.active.value) == 0, "active high on an idle line"
    await Timer(1, unit="ns")


async def send_random(dut, src, rng, n, gaps):
    """n random bytes through src, back to back or with random idle gaps (any ns: every edge phase)."""
    sent = []
    for _ in range(n):
        b = rng.randrange(256)
        sent.append(b)
        if gaps:
            await src.wait()
            await Timer(rng.randrange(1, 3 * BIT_NS), unit="ns")
        await src.write([b])
    await src.wait()
    return sent


@cocotb.test()
async def random_bytes(dut):
    """Random bytes at the nominal baud, back to back and with random gaps: exactly them, in order."""
    mon = await start(dut)
    rng = random.Random(11)
    src = source(dut, BIT_NS)
    await Timer(37, unit="ns")
    sent = await send_random(dut, src, rng, 80, gaps=False)
    sent += await send_random(dut, src, rng, 60, gaps=True)
    sent += [0x00, 0xFF, 0x55, 0xAA]
    await src.write(sent[-4:])
    await src.wait()
    await idle(dut, 2)
    assert mon.bytes == sent, f"received {mon.bytes[:20]}..., sent {sent[:20]}..."
    assert mon.errors == 0 and mon.glitches == 0


@cocotb.test()
async def baud_mismatch(dut):
    """The sender's bit time off by each of SNNHW_UART_TOL (+3 % / -3 %), back to back and with gaps."""
    mon = await start(dut)
    rng = random.Random(12)
    sent = []
    for tol in TOL:
        bit_ns = round(BIT_NS * (1 + tol))
        assert abs(bit_ns / BIT_NS - 1 - tol) < 1e-9, "the clock period does not give this mismatch in whole ns"
        src = source(dut, bit_ns)
        sent += await send_random(dut, src, rng, 60, gaps=False)
        sent += await send_random(dut, src, rng, 40, gaps=True)
        await idle(dut, 2)
    assert mon.bytes == sent, f"{len(mon.bytes)} bytes received, {len(sent)} sent; first diff at " \
        f"{next((i for i, (a, b) in enumerate(zip(mon.bytes, sent)) if a != b), min(len(mon.bytes), len(sent)))}"
    assert mon.errors == 0


@cocotb.test()
async def latency_and_active(dut):
    """Exact timing from the pin edge: active rises at the 3rd rising edge after it, m_valid is high after
    the (3 + HALF + 9 * DIVISOR)-th; active is low before the start and after the stop sample."""
    mon = await start(dut)
    rng = random.Random(13)
    for _ in range(6):
        await FallingEdge(dut.clk)
        await Timer(rng.randrange(1, CLK_NS // 2), unit="ns")   # the pin edge, between two rising edges
        cycle0 = mon.cycle            # the edges so far; the next one is the first after the pin edge
        b = rng.randrange(256)
        await drive(dut, char_levels(b, BIT_NS) + [(1, 0)])
        await idle(dut, 1)
        assert mon.bytes[-1] == b
        assert mon.active_rise_cycles[-1] - cycle0 == 3, \
            f"active rose at edge {mon.active_rise_cycles[-1] - cycle0} after the pin edge, expected 3"
        assert mon.valid_cycles[-1] - cycle0 == 3 + HALF + 9 * DIVISOR, \
            f"m_valid at edge {mon.valid_cycles[-1] - cycle0} after the pin edge, expected {3 + HALF + 9 * DIVISOR}"
    assert mon.errors == 0


@cocotb.test()
async def frame_errors(dut):
    """A stop bit of 0 gives one frame_error and no byte; a break (line low for 25 bits) gives one; the
    receiver then waits for the line to go high, and the next good character (also right after a bad
    one) comes through."""
    mon = await start(dut)
    await Timer(23, unit="ns")
    await drive(dut, char_levels(0xA5, BIT_NS, stop=0) + [(1, 2 * BIT_NS)])
    assert mon.errors == 1 and mon.bytes == []
    await drive(dut, [(0, 25 * BIT_NS), (1, 2 * BIT_NS)])
    assert mon.errors == 2 and mon.bytes == [], f"a break gave {mon.errors - 1} frame errors, {mon.bytes} bytes"
    await drive(dut, char_levels(0x3C, BIT_NS) + [(1, BIT_NS)])
    # a bad stop bit, high for one bit time, then a good character
    await drive(dut, char_levels(0xFF, BIT_NS, stop=0) + [(1, BIT_NS)] + char_levels(0x81, BIT_NS) + [(1, 0)])
    await idle(dut, 1)
    assert mon.errors == 3 and mon.bytes == [0x3C, 0x81], (mon.errors, mon.bytes)


@cocotb.test()
async def glitches(dut):
    """Low pulses of up to HALF cycles (at every phase) never start a character; the next byte is fine."""
    mon = await start(dut)
    rng = random.Random(14)
    # (not exactly HALF cycles: with both pulse edges on rising clock edges the simulator's event order decides)
    lengths = sorted({1, CLK_NS // 2, CLK_NS - 1, HALF * CLK_NS - 13, HALF * CLK_NS - 1})
    for length in lengths:
        for _ in range(12):
            await Timer(rng.randrange(BIT_NS, 2 * BIT_NS), unit="ns")   # apart: two close pulses are one long low
            await drive(dut, [(0, length), (1, 0)])
        await idle(dut, 2)
        assert mon.bytes == [] and mon.errors == 0, f"a {length} ns pulse started a character"
    assert mon.glitches > 0, "no glitch reached the start check"
    src = source(dut, BIT_NS)
    await src.write([0x5A, 0x0F])
    await src.wait()
    await idle(dut, 1)
    assert mon.bytes == [0x5A, 0x0F] and mon.errors == 0


@cocotb.test()
async def reset_mid_character(dut):
    """rst in the middle of a character drops it (active low at once; the sender stops too, the line goes
    high); the next one is received."""
    mon = await start(dut)
    await Timer(41, unit="ns")
    levels = char_levels(0x96, BIT_NS)
    task = cocotb.start_soon(drive(dut, levels))
    await Timer(4 * BIT_NS, unit="ns")
    await FallingEdge(dut.clk)
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    assert int(dut.active.value) == 0 and int(dut.m_valid.value) == 0
    dut.rst.value = 0
    task.cancel()
    await drive(dut, [(1, 2 * BIT_NS)] + char_levels(0x69, BIT_NS) + [(1, 0)])
    await idle(dut, 1)
    assert mon.bytes == [0x69] and mon.errors == 0, (mon.bytes, mon.errors)
