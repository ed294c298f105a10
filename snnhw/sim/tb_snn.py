"""cocotb testbench of a generated snnhw design (run by :func:`snnhw.sim.run_sim`).

Configuration comes from environment variables set by the runner:
SNNHW_BUILD_DIR, SNNHW_RESULTS (JSON written at the end), SNNHW_IMAGES,
SNNHW_SEED, SNNHW_STALLS (0/1), SNNHW_TAPS_FILE (set when the design was
built with SNNHW_TAPS), SNNHW_EXTRA (0/1: back-to-back and reset-mid-image
passes), SNNHW_EXIT_MARGIN and SNNHW_EXIT_MIN_STEPS (the early-exit rule
driven on cfg_exit_*; default: the build's, manifest ``exit``), SNNHW_EXIT_VARY
(0/1: image n runs rule n mod 4 of (that rule, margin 1 / min_steps 1, none,
margin 3 / min_steps 2), switched on cfg_exit_* while the previous image still
runs: proves they are sampled with the first pixel).

Every image's exit step (the number of class beats), every class up to it and
the output potentials after it are compared with ``==`` against the golden
vectors (snnhw.reference.early_exit.exit_outputs of the full-length golden
potentials). With taps, every layer's spike set of every step up to the
image's exit step (all T steps without an exit) is compared, and every layer
must end the image after the same number of steps (at least exit step + 1:
timing decides how many more layer 0 starts); the steps after the exit step
are not compared, since an image abort drops their work wherever it finds it.
The first mismatch is named by layer, image, step and neuron.

Image aborts are watched on ``u_top.u_exit_queue.img_abort``: each rise is one
exited image's abort, and every engine's phase at that moment (the cycle it
sees img_abort) is counted per pass (results ``aborts``): ``done`` (it had passed
the image's last token: the abort is not its business), ``idle`` (between
tokens), ``scatter`` (an event's iterations under way), ``drain``, ``sweep``,
``last-sweep``, ``flush``, ``eos``, ``last-eos``, and for a max-pool gate
``events``, ``drain``, ``eos``, ``last-eos``.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotb.utils import get_sim_time, get_time_from_sim_steps
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from cocotb.triggers import ReadOnly

from snnhw.codegen.generate import exit_port_values
from snnhw.codegen.manifest import load_manifest
from snnhw.reference.early_exit import ExitRule, exit_outputs

CLK_NS = 10


def _env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


class Bench:
    def __init__(self, dut):
        self.dut = dut
        self.build = Path(os.environ["SNNHW_BUILD_DIR"])
        self.manifest = load_manifest(self.build, require=("vectors",))
        vec = np.load(self.build / self.manifest.vectors.file)
        self.images = vec["images"]
        self.T = int(vec["timesteps"])
        self.potentials = vec["potentials"]  # (T, N, K)
        self.classes = vec["classes"]  # (T, N)
        n = _env_int("SNNHW_IMAGES", self.images.shape[0])
        self.n = max(1, min(n, self.images.shape[0]))
        self.K = self.manifest.interface.classes
        self.OW = self.manifest.interface.m_axis.tdata_bits
        self.seed = _env_int("SNNHW_SEED", 0)
        self.rng = random.Random(self.seed)
        self.stalls = bool(_env_int("SNNHW_STALLS", 1))
        self.taps_file = os.environ.get("SNNHW_TAPS_FILE") or None
        self.extra = bool(_env_int("SNNHW_EXTRA", 1))
        self.results = dict(passed=False, images=self.n, timesteps=self.T, seed=self.seed, stalls=self.stalls,
                            mismatches=[], passes={})
        self.init_cycles = self.manifest.interface.init_cycles_after_reset
        ex = self.manifest.exit
        rule = ExitRule(_env_int("SNNHW_EXIT_MARGIN", ex.margin), _env_int("SNNHW_EXIT_MIN_STEPS", ex.min_steps))
        self.rules = [rule]
        if _env_int("SNNHW_EXIT_VARY", 0):
            self.rules = [rule, ExitRule(1, 1), ExitRule(0, 1), ExitRule(3, 2)]
        # per rule: golden (exit steps (N,), potentials after them (N, K)) from the full-length potentials
        self.golden_exit = [exit_outputs(self.potentials, r) for r in self.rules]
        self.pot_bits = ex.margin_bits - 1
        self.step_bits = self.manifest.interface.cfg_timesteps_bits
        self.results.update(exit_rules=[[r.margin, r.min_steps] for r in self.rules], exit_steps={}, aborts={})
        self.cfg_order = []   # image indices in the order their pixels are sent (cfg_driver)
        self.label = ""       # the pass being run (abort_monitor counts per pass)

    def rule_index(self, n):
        return n % len(self.rules)

    def exit_of(self, n):
        """(exit step, potentials after it) of image n under its rule."""
        steps, _, pots = self.golden_exit[self.rule_index(n)]
        return int(steps[n]), [int(v) for v in pots[n]]

    def drive_cfg(self, n):
        margin, min_steps = exit_port_values(self.rules[self.rule_index(n)], self.pot_bits, self.step_bits)
        self.dut.cfg_exit_margin.value = margin
        self.dut.cfg_exit_min_steps.value = min_steps

    async def cfg_driver(self):
        """Keep cfg_exit_* at the rule of the image whose first pixel comes next: switch in the cycle after
        an image's last pixel is taken (layer 0 then runs that image's steps, so the next first pixel is
        later)."""
        dut = self.dut
        pending = False
        while True:
            await RisingEdge(dut.clk)
            if int(dut.rst.value):
                pending = False
            if pending and self.cfg_order:
                self.cfg_order.pop(0)
                if self.cfg_order:
                    self.drive_cfg(self.cfg_order[0])
                pending = False
            await ReadOnly()
            if (not int(dut.rst.value) and int(dut.s_axis_tvalid.value) and int(dut.s_axis_tready.value)
                    and int(dut.s_axis_tlast.value)):
                pending = True

    ENGINE_STATES = ("init", "idle", "drain", "sweep", "flush", "eos")   # snn_neuron_engine S_*
    GATE_STATES = ("clear", "events", "drain", "eos")                     # snn_maxpool_gate S_*

    def phase(self, row):
        """The phase of engine ``row`` (a manifest layer) in the current cycle, for abort_monitor."""
        u = getattr(self.dut.u_top, row.instance)
        if not int(u.img_open.value):
            return "done"
        state, last = int(u.state.value), int(u.step_last.value)
        if row.module == "snn_maxpool_gate":
            name = self.GATE_STATES[state]
            return "last-eos" if name == "eos" and last else name
        name = self.ENGINE_STATES[state] if state < len(self.ENGINE_STATES) else str(state)
        if name == "idle" and int(u.it_valid.value):
            return "scatter"
        if name in ("sweep", "eos") and last:
            return "last-" + name
        return name

    async def abort_monitor(self):
        """Count the image aborts and, per engine, the phase each one found it in."""
        dut = self.dut
        try:
            abort = dut.u_top.u_exit_queue.img_abort
        except AttributeError:
            return
        rows = [r for r in self.manifest.layers if r.module in ("snn_neuron_engine", "snn_maxpool_gate")]
        while True:
            await RisingEdge(abort)
            await ReadOnly()
            if int(dut.rst.value) or not int(abort.value):
                continue
            rec = self.results["aborts"].setdefault(self.label, dict(images=0, phases={}))
            rec["images"] += 1
            for r in rows:
                ph = rec["phases"].setdefault(f"L{r.index} {r.name}", {})
                p = self.phase(r)
                ph[p] = ph.get(p, 0) + 1

    def expect_images(self, order):
        self.cfg_order = list(order)
        if order:
            self.drive_cfg(order[0])

    # --------------------------------------------------------------
    def pauses(self, prob):
        rng = random.Random(self.rng.random())

        def gen():
            while True:
                # bursts of stalls as well as single-cycle ones
                if rng.random() < prob:
                    for _ in range(rng.choice((1, 1, 2, 5))):
                        yield True
                else:
                    yield False

        return gen()

    async def start(self):
        dut = self.dut
        Clock(dut.clk, CLK_NS, unit="ns").start()
        dut.rst.value = 1
        dut.s_axis_tvalid.value = 0
        dut.m_axis_tready.value = 0
        dut.cfg_timesteps.value = self.T
        self.drive_cfg(0)
        cocotb.start_soon(self.cfg_driver())
        cocotb.start_soon(self.abort_monitor())
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst,
                                      reset_active_level=True)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst,
                                  reset_active_level=True, byte_lanes=1)
        self.source.log.setLevel("WARNING")
        self.sink.log.setLevel("WARNING")
        await ClockCycles(dut.clk, 4)
        dut.rst.value = 0
        await RisingEdge(dut.clk)

    def set_stalls(self, on):
        if on:
            self.source.set_pause_generator(self.pauses(0.25))
            self.sink.set_pause_generator(self.pauses(0.3))
        else:
            self.source.clear_pause_generator()
            self.sink.clear_pause_generator()
            self.source.pause = False  # clearing the generator keeps its last value
            self.sink.pause = False

    def cycles(self):
        return get_sim_time("ns") / CLK_NS

    def decode(self, frame):
        data = list(frame.tdata)
        user = frame.tuser
        if user is None:
            user = [0] * len(data)
        elif isinstance(user, int):
            user = [user] * len(data)
        half = 1 << (self.OW - 1)
        return data, list(user), [v - (1 << self.OW) if v >= half else v for v in data]

    def check_frame(self, frame, n, label):
        data, user, sdata = self.decode(frame)
        errs = []
        e, gold = self.exit_of(n)
        S = e + 1  # class beats: steps 0 .. exit step
        got_s = sum(1 for u in user if u == 0)
        self.results["exit_steps"].setdefault(label, []).append(got_s - 1)
        if got_s != S and len(data) == got_s + self.K and user == [0] * got_s + [1] * self.K:
            errs.append(f"{label}: image {n}: exits after step {got_s - 1} ({got_s} class beats), golden exit "
                        f"step {e} (rule {self.rules[self.rule_index(n)]})")
            return errs
        if len(data) != S + self.K or user != [0] * S + [1] * self.K:
            errs.append(f"{label}: image {n}: frame has {len(data)} beats with tuser {user[:8]}..., expected "
                        f"{S} class beats then {self.K} potential beats")
            return errs
        for t in range(S):
            if data[t] != int(self.classes[t, n]):
                errs.append(f"{label}: image {n} step {t + 1}: class {data[t]} != golden {int(self.classes[t, n])}")
                break
        pot = sdata[S:]
        if pot != gold:
            k = next(i for i in range(self.K) if pot[i] != gold[i])
            errs.append(f"{label}: image {n}: potential[{k}] after the exit step {e} = {pot[k]} != golden {gold[k]}")
        return errs

    async def run_images(self, label, stalls, timeout_cycles):
        self.label = label
        self.set_stalls(stalls)
        t0 = self.cycles()
        self.expect_images(range(self.n))
        for n in range(self.n):
            await self.source.send(AxiStreamFrame(bytes(self.images[n].reshape(-1).tolist())))
        ends, errs, classes = [], [], []
        for n in range(self.n):
            frame = await with_timeout(self.sink.recv(), timeout_cycles * CLK_NS, "ns")
            ends.append(get_time_from_sim_steps(frame.sim_time_end, "ns") / CLK_NS if frame.sim_time_end
                        else self.cycles())
            errs += self.check_frame(frame, n, label)
            s = sum(1 for u in self.decode(frame)[1] if u == 0)   # the class after the image's exit step
            classes.append(int(frame.tdata[s - 1]) if s >= 1 else None)
        total = ends[-1] - t0
        info = dict(cycles_total=total, cycles_per_image=total / self.n, latency_first_image=ends[0] - t0,
                    interval_cycles=(ends[-1] - ends[0]) / (self.n - 1) if self.n > 1 else None,
                    image_end_cycles=[e - t0 for e in ends],  # each image's last beat, from the first pixel
                    errors=len(errs),
                    final_classes=classes,  # the RTL's own answer after the last step (for accuracy rows)
                    framing_error=int(self.dut.status_framing_error.value))
        if int(self.dut.status_framing_error.value):
            errs.append(f"{label}: status_framing_error is set")
        self.results["passes"][label] = info
        self.results["mismatches"] += errs
        return info

    async def reset_mid_image(self, timeout_cycles, at_cycles):
        """Assert reset in the middle of an image, then check that the next image is still exact."""
        self.label = "reset-mid-image"
        self.set_stalls(False)
        n = 1 if self.n > 1 else 0
        self.expect_images([0])
        await self.source.send(AxiStreamFrame(bytes(self.images[0].reshape(-1).tolist())))
        await ClockCycles(self.dut.clk, max(1, at_cycles))
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 3)
        self.source.clear()
        self.sink.clear()
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        self.expect_images([n])
        await self.source.send(AxiStreamFrame(bytes(self.images[n].reshape(-1).tolist())))
        frame = await with_timeout(self.sink.recv(), timeout_cycles * CLK_NS, "ns")
        errs = self.check_frame(frame, n, "reset-mid-image")
        await ClockCycles(self.dut.clk, 20)
        if not self.sink.empty():
            errs.append("reset-mid-image: unexpected extra output after the image")
        self.results["passes"]["reset-mid-image"] = dict(reset_after_cycles=at_cycles, errors=len(errs))
        self.results["mismatches"] += errs

    def compare_taps(self):
        spikes = np.load(self.build / self.manifest.vectors.spikes)
        taps = {t.layer: t for t in self.manifest.interface.taps}
        got = {layer: [] for layer in taps}  # layer -> list over images of lists over steps of neuron lists
        cur = {layer: [] for layer in taps}
        for line in Path(self.taps_file).read_text().splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue
            layer = int(parts[0])
            if parts[2] == "E":
                if int(parts[1]) == 0:  # the tap's step counter restarts after an image's last step
                    got[layer].append([])
                if got[layer]:
                    got[layer][-1].append(cur[layer])
                cur[layer] = []
            else:
                cur[layer].append(int(parts[2]))
        names = self.manifest.layer_names()
        first = None
        for n in range(self.n):
            e, _ = self.exit_of(n)
            # every layer passes every end-of-step token layer 0 sends: the same number of steps, e + 1 .. T
            steps = {layer: len(got[layer][n]) if n < len(got[layer]) else 0 for layer in taps}
            if len(set(steps.values())) > 1 or not e + 1 <= min(steps.values()) <= self.T:
                layer = min(taps, key=lambda k: steps[k])
                first = dict(layer=layer, name=names.get(layer), image=n, step=steps[layer], neuron=None,
                             message=f"steps per layer {steps}, exit step {e}, T {self.T}")
                break
            for t in range(e + 1):   # after the exit step an abort may have dropped any part of the work
                for layer in sorted(taps):
                    gold = spikes[f"L{layer}"][t, n].reshape(-1)
                    shape = spikes[f"L{layer}"].shape[2:]
                    seq = got[layer][n][t]
                    sim = np.zeros(gold.shape[0], np.int64)
                    for a in seq:
                        if a < sim.shape[0]:
                            sim[a] += 1
                        else:
                            sim = None
                            break
                    if sim is None or (sim != gold).any():
                        if sim is None:
                            k, sv = -1, "out-of-range address"
                        else:
                            k = int(np.flatnonzero(sim != gold)[0])
                            sv = int(sim[k])
                        pos = tuple(int(v) for v in np.unravel_index(k, shape)) if k >= 0 else None
                        first = dict(layer=layer, name=names.get(layer), image=n, step=t + 1, neuron=k,
                                     position=pos, golden=int(gold[k]) if k >= 0 else None, rtl=sv)
                        break
                if first:
                    break
            if first:
                break
        self.results["first_tap_mismatch"] = first
        if first and first.get("message"):
            self.results["mismatches"].append(
                f"taps: layer {first['layer']} ({first['name']}), image {first['image']}: {first['message']}")
        elif first:
            self.results["mismatches"].append(
                f"taps: first mismatch at layer {first['layer']} ({first['name']}), image {first['image']}, "
                f"step {first['step']}, neuron {first.get('neuron')} {first.get('position')}: "
                f"golden spike {first.get('golden')}, RTL {first.get('rtl')}")

    def write(self):
        r = self.results
        r["passed"] = bool(r.get("completed")) and not r["mismatches"]
        b2b = r["passes"].get("back-to-back") or r["passes"].get("stalls")
        if b2b:
            r["cycles_per_image"] = b2b["cycles_per_image"]
        Path(os.environ["SNNHW_RESULTS"]).write_text(json.dumps(r, indent=2))


@cocotb.test()
async def test_design(dut):
    """All vectors with random stalls (+ back-to-back and reset-mid-image passes)."""
    bench = Bench(dut)
    await bench.start()
    est = bench.manifest.cycle_model.latency_cycles_estimate
    timeout = int(50 * est + 20 * bench.init_cycles + 20000) * max(1, bench.n)
    try:
        # the first pass must start right after reset: the taps log counts images from there
        await bench.run_images("stalls" if bench.stalls else "back-to-back", bench.stalls, timeout)
        if bench.taps_file:
            bench.compare_taps()
        if bench.extra:
            if bench.stalls:
                await bench.run_images("back-to-back", False, timeout)
            per = bench.results["passes"]["back-to-back"]["cycles_per_image"]
            await bench.reset_mid_image(timeout, int(per * 0.5) + bench.init_cycles)
        bench.results["completed"] = True
    except BaseException as exc:
        bench.results["mismatches"].append(f"testbench aborted: {type(exc).__name__}: {exc}")
        raise
    finally:
        bench.write()
    assert not bench.results["mismatches"], "\n".join(bench.results["mismatches"][:10])
