"""cocotb test of uart_loopback.v (snn_uart_rx -> snn_fifo -> snn_uart_tx): random bytes from cocotbext-uart's
UartSource must come back, in order, at the UartSink; at the nominal baud (back to back and with gaps) and
with the sender 3 % slow (the echo then waits for each byte, nothing piles up)."""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer
from cocotbext.uart import UartSink, UartSource

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
DIVISOR = int(PARAMS.get("DIVISOR", 16))
CLK_NS = 100
BIT_NS = CLK_NS * DIVISOR


@cocotb.test()
async def echo(dut):
    cocotb.start_soon(Clock(dut.clk, CLK_NS, unit="ns").start())
    dut.rx.value = 1
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    sink = UartSink(dut.tx, baud=1e9 / (BIT_NS + 0.5), bits=8, stop_bits=1)
    rng = random.Random(31)
    sent = []
    for bit_ns, gaps in [(BIT_NS, False), (BIT_NS, True), (round(BIT_NS * 1.03), False)]:
        src = UartSource(dut.rx, baud=1e9 / (bit_ns + 0.5), bits=8, stop_bits=1)
        await Timer(rng.randrange(1, CLK_NS), unit="ns")
        for _ in range(40):
            b = rng.randrange(256)
            sent.append(b)
            if gaps:
                await src.wait()
                await Timer(rng.randrange(1, 3 * BIT_NS), unit="ns")
            await src.write([b])
        await src.wait()
        await Timer(12 * BIT_NS, unit="ns")
    got = list(sink.read_nowait())
    assert got == sent, f"echoed {len(got)} bytes, sent {len(sent)}; {got[:10]} vs {sent[:10]}"
