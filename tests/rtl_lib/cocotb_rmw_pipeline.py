"""cocotb tests of snn_rmw_pipeline (in the snn_rmw_tb wrapper of test_rmw_pipeline.py, with a real snn_ram,
OUTREG = 1) against a Python memory.

Each operation either sets its word (the initialisation) or adds an increment; the test plays the engine: in
stage C it reads c_acc_old and drives c_acc_write / c_acc_wdata = c_acc_old + increment, which the wrapper
registers and writes at stage D. Every stage-C c_acc_old must equal the model's word (all earlier operations
applied, in order), the stage outputs must follow the issue stream one cycle per stage, and after the stream
every word, read back through the pipeline, must hold its initial value plus the sum of its increments.
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

P = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
ADDR_W = int(P.get("ADDR_W", 2))
DATA_W = int(P.get("DATA_W", 8))
WORDS = 1 << ADDR_W
MASK = (1 << DATA_W) - 1


class Bench:
    def __init__(self, dut, rng):
        self.dut = dut
        self.rng = rng
        self.stages = {"A": None, "B": None, "C": None, "D": None}
        self.mem = {}                 # the model memory: every operation applied in order
        self.expect = {}              # independent tally: initial value + the sum of the increments
        self.last_issue = {}          # word -> the cycle of its latest operation
        self.last_issue_before = {}   # word -> the cycle of the operation before that
        self.cycle = 0
        self.fwd = {1: 0, 2: 0, 3: 0}     # operations whose word was updated by the op 1 / 2 / 3 cycles ahead
        self.triple = 0                   # ... by the ops 1 and 2 ahead both (the forward's priority)
        self.checked = 0

    async def cycle_with(self, op):
        """One clock cycle: ``op`` (None or dict(addr, kind, value)) is issued, the stage-C operation done."""
        dut = self.dut
        c_op = self.stages["C"]
        if c_op is not None:
            old = int(dut.c_acc_old.value)
            if c_op["kind"] == "add":
                exp = self.mem[c_op["addr"]]
                assert old == exp, (f"cycle {self.cycle}: c_acc_old {old:#x} for word {c_op['addr']}, expected "
                                    f"{exp:#x} (op {c_op})")
                self.checked += 1
                new = (old + c_op["value"]) & MASK
            else:
                new = c_op["value"]
            dut.c_acc_write.value = 1
            dut.c_acc_wdata.value = new
        else:
            dut.c_acc_write.value = 0
            dut.c_acc_wdata.value = self.rng.randrange(MASK + 1)
        dut.issue_valid.value = int(op is not None)
        dut.issue_addr.value = op["addr"] if op is not None else self.rng.randrange(WORDS)
        if op is not None:
            prev = self.last_issue.get(op["addr"])
            dist = None if prev is None else self.cycle - prev
            if op["kind"] == "add" and dist in self.fwd:
                self.fwd[dist] += 1
                self.triple += int(dist == 1 and self.last_issue_before.get(op["addr"]) == self.cycle - 2)
            self.last_issue_before[op["addr"]] = prev
            self.last_issue[op["addr"]] = self.cycle
            if op["kind"] == "set":
                self.expect[op["addr"]] = op["value"]
            else:
                self.expect[op["addr"]] = (self.expect[op["addr"]] + op["value"]) & MASK
        await ReadOnly()
        for stage, valid, addr in (("A", "read_en", "read_addr"), ("B", "b_valid", "b_addr"),
                                   ("C", "c_valid", "c_addr"), ("D", "d_valid", "d_addr")):
            s = self.stages[stage]
            got = int(getattr(dut, valid).value)
            assert got == int(s is not None), f"cycle {self.cycle}: {valid} {got}, expected {int(s is not None)}"
            if s is not None:
                got = int(getattr(dut, addr).value)
                assert got == s["addr"], f"cycle {self.cycle}: {addr} {got}, expected {s['addr']}"
        if c_op is not None:
            self.mem[c_op["addr"]] = new
        self.stages = {"A": op, "B": self.stages["A"], "C": self.stages["B"], "D": self.stages["C"]}
        self.cycle += 1
        await FallingEdge(dut.clk)


async def reset(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.issue_valid.value = 0
    dut.issue_addr.value = 0
    dut.c_acc_write.value = 0
    dut.c_acc_wdata.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


@cocotb.test()
async def random_increments(dut):
    """Initialise every word (random values, back to back and with gaps), then a random stream in which most
    operations hit one of the last three words (forwarding distances 1, 2, 3 cycles, with and without idle
    cycles and other words between), then read every word back."""
    await reset(dut)
    rng = random.Random(int(os.environ.get("SNNHW_SEED", "5")))
    bench = Bench(dut, rng)
    # initialise
    for addr in rng.sample(range(WORDS), WORDS):
        while rng.random() < 0.3:
            await bench.cycle_with(None)
        await bench.cycle_with(dict(addr=addr, kind="set", value=rng.randrange(MASK + 1)))
    # the stream
    recent = []
    for i in range(2500):
        if rng.random() < 0.25 or (i // 200) % 4 == 3 and rng.random() < 0.5:   # gaps, more in some stretches
            await bench.cycle_with(None)
            continue
        if recent and rng.random() < 0.65:
            addr = rng.choice(recent[-3:])
        else:
            addr = rng.randrange(WORDS)
        recent.append(addr)
        kind = "set" if rng.random() < 0.03 else "add"
        value = rng.choice([1, MASK, rng.randrange(MASK + 1), rng.randrange(min(MASK, 7) + 1)])
        await bench.cycle_with(dict(addr=addr, kind=kind, value=value))
    # drain, then read every word back (no write in flight: straight from the RAM)
    for _ in range(6):
        await bench.cycle_with(None)
    assert bench.mem == bench.expect
    for addr in rng.sample(range(WORDS), WORDS):
        await bench.cycle_with(dict(addr=addr, kind="add", value=0))
    for _ in range(6):
        await bench.cycle_with(None)
    assert all(bench.stages[s] is None for s in bench.stages)
    assert bench.mem == bench.expect
    dut._log.info(f"rmw stats: checked {bench.checked}, forwards by distance {bench.fwd}, chains {bench.triple}")
    assert min(bench.fwd.values()) >= 50 and bench.triple >= 20, (bench.fwd, bench.triple)


@cocotb.test()
async def one_word_bursts(dut):
    """Bursts of 1..6 back-to-back increments of one word, the bursts separated by 0..4 idle cycles."""
    await reset(dut)
    rng = random.Random(9)
    bench = Bench(dut, rng)
    for addr in range(WORDS):
        await bench.cycle_with(dict(addr=addr, kind="set", value=rng.randrange(MASK + 1)))
    for _ in range(150):
        addr = rng.randrange(WORDS)
        for _ in range(rng.randint(1, 6)):
            await bench.cycle_with(dict(addr=addr, kind="add", value=rng.randrange(MASK + 1)))
        for _ in range(rng.randint(0, 4)):
            await bench.cycle_with(None)
    for _ in range(6):
        await bench.cycle_with(None)
    for addr in range(WORDS):
        await bench.cycle_with(dict(addr=addr, kind="add", value=0))
    for _ in range(6):
        await bench.cycle_with(None)
    assert bench.mem == bench.expect
