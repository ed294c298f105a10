"""cocotb test of snn_exit_queue against a cycle-accurate Python model.

Random pushes (only while room, as layer 0 does), pops (only when not empty, as the output stream
does), exit_req and a reset in the middle; checked every cycle: room, the head's margin and min_steps,
exit_now = exit_req and exactly one descriptor held, registered, and abort = the same without a push or a
pop at that edge, registered.
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
MW = int(PARAMS.get("MARGIN_BITS", 8))
SW = int(PARAMS.get("STEP_W", 4))
DEPTH = int(PARAMS.get("DEPTH", 16))


@cocotb.test()
async def queue(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    rng = random.Random(MW * 131 + SW * 7 + DEPTH)
    words, exit_now, abort = [], 0, 0
    for name in ("push", "push_margin", "push_min_steps", "pop", "exit_req"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    full_seen = 0
    abort_cases = dict(push=0, pop=0, abort=0)   # exit_now without abort because of a push / pop, and abort
    for cycle in range(3000):
        await FallingEdge(dut.clk)
        rst = int(cycle == 1500)
        phase = (cycle // 300) % 3   # fill up, drain, mixed
        p_push = (0.8, 0.1, 0.4)[phase]
        push = int(len(words) < DEPTH and rng.random() < p_push)
        pop = int(bool(words) and rng.random() < (0.1, 0.8, 0.4)[phase])
        margin, steps = rng.randrange(1 << MW), rng.randrange(1 << SW)
        req = int(rng.random() < 0.5)
        dut.rst.value = rst
        dut.push.value = push
        dut.push_margin.value = margin
        dut.push_min_steps.value = steps
        dut.pop.value = pop
        dut.exit_req.value = req
        await ReadOnly()
        assert int(dut.room.value) == int(len(words) < DEPTH), f"cycle {cycle}: room with {len(words)} held"
        assert int(dut.exit_now.value) == exit_now, f"cycle {cycle}: exit_now {dut.exit_now.value}, expected {exit_now}"
        assert int(dut.img_abort.value) == abort, f"cycle {cycle}: abort {dut.img_abort.value}, expected {abort}"
        if words:
            assert (int(dut.head_margin.value), int(dut.head_min_steps.value)) == words[0], f"cycle {cycle}: head"
        full_seen += int(len(words) == DEPTH)
        # the clock edge
        if rst:
            words, exit_now, abort = [], 0, 0
            continue
        exit_now = int(req and len(words) == 1)
        abort = int(exit_now and not push and not pop)
        if exit_now:
            abort_cases["push"] += push
            abort_cases["pop"] += pop
            abort_cases["abort"] += abort
        if pop:
            words.pop(0)
        if push:
            words.append((margin, steps))
    assert full_seen, "the queue was never full: weak test"
    assert all(abort_cases.values()), f"weak test: {abort_cases}"
