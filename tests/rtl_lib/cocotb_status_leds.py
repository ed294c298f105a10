"""cocotb tests of snn_status_leds: the heartbeat toggles every 2^(HEARTBEAT_BITS-1) cycles, also in reset;
led[1..] are the inputs of the cycle before (locked also in reset; busy, error and the class bits 0 in reset).

Parameters come from ``SNNHW_PARAMS`` (JSON).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
HB = int(PARAMS.get("HEARTBEAT_BITS", 25))
LEDS = int(PARAMS.get("LEDS", 8))


def expected(rst, locked, busy, error, last_class):
    """led[LEDS-1:1] after an edge with these inputs."""
    bits = [locked, busy & (1 - rst), error & (1 - rst)]
    bits += [((last_class >> i) & 1) & (1 - rst) for i in range(LEDS - 4)]
    return sum(b << i for i, b in enumerate(bits))


@cocotb.test()
async def heartbeat_and_mapping(dut):
    dut.rst.value = 1
    dut.locked.value = 0
    dut.busy.value = 0
    dut.error.value = 0
    dut.last_class.value = 0
    await Timer(1, unit="ns")
    assert int(dut.led.value) == 0, "the LEDs start dark (initial values)"
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start(start_high=False))
    rng = random.Random(51)
    toggles, prev_beat = [], 0
    for cycle in range(max(6 << HB, 2000)):
        await FallingEdge(dut.clk)
        rst = int(cycle < 300 or rng.random() < 0.05)   # a long reset first: the heartbeat must run in it
        ins = dict(locked=rng.randrange(2), busy=rng.randrange(2), error=rng.randrange(2),
                   last_class=rng.randrange(256))
        dut.rst.value = rst
        for k, v in ins.items():
            getattr(dut, k).value = v
        await RisingEdge(dut.clk)
        await ReadOnly()
        led = int(dut.led.value)
        assert led >> 1 == expected(rst, **ins), \
            f"cycle {cycle}: led {led:0{LEDS}b}, expected {expected(rst, **ins):0{LEDS - 1}b}x (rst {rst}, {ins})"
        if (led & 1) != prev_beat:
            toggles.append(cycle)
            prev_beat = led & 1
    periods = {b - a for a, b in zip(toggles, toggles[1:])}
    assert len(toggles) >= 4 and periods == {1 << (HB - 1)}, \
        f"heartbeat toggled {len(toggles)} times, half periods {sorted(periods)}, expected {1 << (HB - 1)}"
    assert toggles[0] < 300, "no heartbeat during reset"
