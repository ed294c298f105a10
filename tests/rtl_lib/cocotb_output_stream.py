"""cocotb test of snn_output_stream against a transaction-level Python model.

An output layer (producer) sends every step's result words in random order with random gaps, then the
end of step; a consumer takes the beats with random back-pressure. Each image has an early-exit rule
(cfg_margin, cfg_min_steps: none, margin 1, margins met exactly, min_steps > 1, a margin never met); an
image that exits is cut by the producer at a random step at or after the exit step (as layer 0 ends it
early). Checked: every beat (class after each step up to the exit step, the exit step's potentials), the
class beat's latency, res_eos_ready, exit_req (high exactly in the steps after the exit) and cfg_pop (once
per image, at its end).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
STEP_W = int(PARAMS.get("STEP_W", 4))
P = int(PARAMS["LANES"])
C = int(PARAMS["CHANNELS"])
HW = int(PARAMS["POSITIONS"])
MB = int(PARAMS["POTENTIAL_BITS"])
DW = int(PARAMS["DATA_WIDTH"])
G = -(-C // P)
K = C * HW
TREE_LEVELS = (P - 1).bit_length()


def bits(n):
    return max(1, (n - 1).bit_length())


class Model:
    """The beats an image of steps (each a dict channel -> list of HW potentials) must produce."""

    @staticmethod
    def exit_step(steps, margin, min_steps):
        """snnhw.reference.early_exit's rule: the first step t with t + 1 >= min_steps and top1 - top2 >= margin
        (top1 alone for one class); margin 0: none (the last step)."""
        for t, v in enumerate(steps):
            flat = sorted((v[c][s] for c in range(C) for s in range(HW)), reverse=True)
            gap = flat[0] - (flat[1] if K > 1 else 0)
            if margin and t + 1 >= max(1, min_steps) and gap >= margin:
                return t
        return len(steps) - 1

    @staticmethod
    def beats(steps, exit_step=None):
        out = []
        e = len(steps) - 1 if exit_step is None else exit_step
        for v in steps[:e + 1]:
            flat = [v[c][s] for c in range(C) for s in range(HW)]   # C-H-W index c * HW + s
            best = max(range(K), key=lambda k: (flat[k], -k))       # ties: the lowest index
            out.append((best, 0, 0))
        last = steps[e]
        for c in range(C):
            for s in range(HW):
                out.append((last[c][s] % (1 << DW), 1, int(c == C - 1 and s == HW - 1)))
        return out


def random_step(rng, spread):
    lo, hi = -(1 << (MB - 1)), (1 << (MB - 1)) - 1
    if spread:
        lo, hi = max(lo, -2), min(hi, 2)   # many ties
    return {c: [rng.randint(lo, hi) for _ in range(HW)] for c in range(C)}


def word(v, g, s, rng):
    """The result word of group g at position s: lanes of channels >= C carry garbage (ignored)."""
    value = 0
    for p in range(P):
        c = g * P + p
        pot = v[c][s] if c < C else rng.randrange(1 << MB)
        value |= (pot % (1 << MB)) << (p * MB)
    return value


class Bench:
    def __init__(self, dut, seed):
        self.dut = dut
        self.rng = random.Random(seed)
        self.cycle = 0
        self.beats = []            # (data, user, last, cycle)
        self.last_word_cycle = None
        self.eos_early = False     # res_eos_valid was up by the step's last word
        self.latencies = []
        self.p_ready = 0.5
        self.pops = 0

    async def clock(self):
        while True:
            await RisingEdge(self.dut.clk)
            self.cycle += 1

    async def pop_counter(self):
        while True:
            await FallingEdge(self.dut.clk)
            await ReadOnly()
            self.pops += int(self.dut.cfg_pop.value)

    async def consumer(self):
        """Random m_ready; a beat offered must stay (valid, data, user, last unchanged) until it is taken."""
        dut = self.dut
        offered = None
        while True:
            await FallingEdge(dut.clk)
            dut.m_ready.value = int(self.rng.random() < self.p_ready)
            await ReadOnly()
            if offered is not None:
                assert int(dut.m_valid.value), f"cycle {self.cycle}: m_valid fell before the beat was taken"
            if int(dut.m_valid.value):
                beat = (int(dut.m_data.value), int(dut.m_user.value), int(dut.m_last.value))
                assert offered in (None, beat), f"cycle {self.cycle}: beat {beat} changed from {offered} while waiting"
                offered = beat
                if int(dut.m_ready.value):
                    self.beats.append(beat + (self.cycle,))
                    offered = None

    async def send_image(self, steps, exit_step=None):
        """The output layer: words in random order with gaps, then the end of step until res_eos_ready.
        ``steps`` end at or after the exit step (None: no exit)."""
        dut = self.dut
        e = len(steps) - 1 if exit_step is None else exit_step
        for t, v in enumerate(steps):
            last_step = int(t == len(steps) - 1)
            await FallingEdge(dut.clk)
            await ReadOnly()
            assert int(dut.exit_req.value) == int(t > e), f"step {t} (exit step {e}): exit_req {dut.exit_req.value}"
            order = [(g, s) for g in range(G) for s in range(HW)]
            self.rng.shuffle(order)
            early = self.rng.random() < 0.5   # raise res_eos_valid together with the last word
            for i, (g, s) in enumerate(order):
                while self.rng.random() < 0.3:   # a gap
                    await FallingEdge(dut.clk)
                    dut.res_valid.value = 0
                await FallingEdge(dut.clk)
                dut.res_valid.value = 1
                dut.res_last.value = last_step
                dut.res_group.value = g
                dut.res_pos.value = s
                dut.res_addr.value = g * HW + s
                dut.res_potentials.value = word(v, g, s, self.rng)
                if early and i == len(order) - 1:
                    dut.res_eos_valid.value = 1
                    dut.res_eos_last.value = last_step
                await ReadOnly()
                self.last_word_cycle = self.cycle
            await FallingEdge(dut.clk)
            dut.res_valid.value = 0
            dut.res_potentials.value = self.rng.randrange(1 << (P * MB))   # garbage while res_valid is low
            if not early:
                for _ in range(self.rng.randrange(4)):
                    await FallingEdge(dut.clk)
                dut.res_eos_valid.value = 1
                dut.res_eos_last.value = last_step
            first_class = len(self.beats)
            seen_valid = None
            while True:
                await ReadOnly()
                if seen_valid is None and int(dut.m_valid.value):
                    seen_valid = self.cycle
                if int(dut.res_eos_ready.value):
                    break
                await FallingEdge(dut.clk)
            if early and t <= e:
                self.latencies.append(seen_valid - self.last_word_cycle)
            await FallingEdge(dut.clk)
            dut.res_eos_valid.value = 0
            dut.res_eos_last.value = 0
            # res_eos_ready comes only after the step's beats are all taken
            n_beats = int(t <= e) + (K if last_step else 0)
            assert len(self.beats) - first_class == n_beats, \
                f"step {t}: {len(self.beats) - first_class} beats before res_eos_ready, expected {n_beats}"


@cocotb.test()
async def images(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    bench = Bench(dut, seed=P * 7919 + C * 31 + HW)
    for name in ("res_valid", "res_last", "res_group", "res_addr", "res_pos", "res_potentials", "res_eos_valid",
                 "res_eos_last", "m_ready", "cfg_margin", "cfg_min_steps"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    cocotb.start_soon(bench.clock())
    cocotb.start_soon(bench.consumer())
    cocotb.start_soon(bench.pop_counter())
    expected = []
    never = (1 << (MB + 1)) - 1   # the largest margin: never met (top1 - top2 <= 2**MB - 1)
    images = [(3, False, 0.5, 0, 1), (2, True, 0.9, 0, 1), (1, False, 0.2, 0, 1), (4, True, 1.0, 0, 1),
              (4, False, 0.7, 1, 1), (5, True, 0.6, 2, 2), (4, True, 0.8, 3, 1), (3, False, 0.5, never, 1),
              (5, True, 0.5, 1, 3), (4, False, 0.6, 1, 0), (6, True, 0.7, 1, 2)]
    exits = []
    for image, (n_steps, ties, p_ready, margin, min_steps) in enumerate(images):
        bench.p_ready = p_ready
        steps = [random_step(bench.rng, ties) for _ in range(n_steps)]
        if image == len(images) - 1:   # a margin met exactly, at step 2
            margin = None
        if margin is None:
            top = sorted((steps[2][c][s] for c in range(C) for s in range(HW)), reverse=True)
            margin = max(1, top[0] - (top[1] if K > 1 else 0))
        e = Model.exit_step(steps, margin, min_steps)
        exits.append(e)
        dut.cfg_margin.value = margin
        dut.cfg_min_steps.value = min_steps % (1 << STEP_W)
        expected += Model.beats(steps, e)
        cut = min(n_steps - 1, e + bench.rng.randrange(3)) if e < n_steps - 1 else n_steps - 1
        await bench.send_image(steps[:cut + 1], e if e < n_steps - 1 else None)
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    assert bench.pops == len(images), f"cfg_pop pulsed {bench.pops} times for {len(images)} images"
    assert any(e < n for e, (n, *_) in zip(exits, images)), f"no image exited early: {exits}"
    got = [b[:3] for b in bench.beats]
    assert len(got) == len(expected), f"{len(got)} beats, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g == e, f"beat {i}: (data, user, last) = {g}, expected {e}"
    # the class beat follows the step's last word after the tree, stage x and the merge
    assert bench.latencies and set(bench.latencies) == {TREE_LEVELS + 4}, bench.latencies
