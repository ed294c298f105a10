"""cocotb test of snn_neuron_engine's image abort (run by tests/rtl_lib/test_neuron_engine.py).

A spiking token-input engine (a convolution or a dense layer) gets random spike images step by step
(random order, random in_valid gaps, end-of-step tokens with the last flag on each image's last step) under
random out_ready back-pressure; its output spikes per step are checked against a small model of the
numeric contract (scatter W, then V += b, fire at V >= theta, reset, clamp, V = v_init after the last step).

Every other image is aborted: the abort input is raised as snn_exit_queue raises it (high for a random
number of cycles, never once a token of a later image has been taken: the next image's tokens wait until
it falls), at the first cycle the engine is in a chosen phase of that image. The phases cycle through
  first         the cycle after the image's first token is taken
  idle          between tokens (no event being scattered)
  scatter       an event's iterations under way
  drain         after an end-of-step token, the last event's writes
  sweep, flush, eos            a non-last step's fire sweep, its drain, its end-of-step token waiting
  last-sweep, last-eos         the same in the image's last step
  last-eos-out  in the cycle the last end-of-step token leaves (out_ready forced high)
  after         once the last end-of-step token has left (the engine waits for the next image)
Checked for every image: one end-of-step token per input step with the right last flag; the steps that
ended before the abort was raised are exact; the step under way when it is seen keeps a subset of its
spikes and the later ones have none ("last-eos-out" and "after": no effect at all); every image that is
not aborted is exact (so the image after an aborted one starts clean). Every phase must be hit.

Configuration (JSON in SNNHW_ENGINE): the engine's geometry (``c_in`` ... ``lanes``, ``vector`` input),
``weights`` (C_OUT, C_IN, KH, KW), ``bias``, ``theta``, ``reset_sub``, ``v_init_half``, ``vmin``, ``vmax``,
``images`` (steps per image), ``densities``, ``seed``.
"""
from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

PHASES = ("first", "idle", "scatter", "drain", "sweep", "flush", "eos", "last-sweep", "last-eos",
          "last-eos-out", "after")
S_EVENTS, S_DRAIN, S_FIRE, S_FLUSH, S_EOS = 1, 2, 3, 4, 5


def ubits(n: int) -> int:
    return max(1, int(n).bit_length())


class Layer:
    def __init__(self, cfg):
        self.cfg = cfg
        self.vector = bool(cfg["vector"])
        self.C, self.H, self.W = cfg["c_in"], cfg["h_in"], cfg["w_in"]
        self.O, self.HO, self.WO = cfg["c_out"], cfg["h_out"], cfg["w_out"]
        self.KH, self.KW, self.SH, self.SW, self.PT, self.PL = (cfg[k] for k in ("kh", "kw", "sh", "sw", "pt", "pl"))
        self.w = np.array(cfg["weights"], dtype=np.int64)
        self.b = np.array(cfg["bias"], dtype=np.int64)
        self.theta = np.array(cfg["theta"], dtype=np.int64)
        self.v_init = (self.theta >> 1) if cfg["v_init_half"] else np.zeros(self.O, np.int64)
        self.icw, self.iyw, self.ixw = ubits(self.C - 1), ubits(self.H - 1), ubits(self.W - 1)
        self.ocw, self.oyw, self.oxw = ubits(self.O - 1), ubits(self.HO - 1), ubits(self.WO - 1)
        if self.vector:
            self.icw, self.ocw = ubits(self.C - 1), ubits(self.O - 1)
        self.in_w = 2 + self.icw + (0 if self.vector else self.iyw + self.ixw)
        self.out_addr = self.ocw + (0 if self.vector else self.oyw + self.oxw)

    def spike_token(self, c, y, x) -> int:
        if self.vector:
            return int(c)
        return (int(c) << (self.iyw + self.ixw)) | (int(y) << self.ixw) | int(x)

    def eos_token(self, last) -> int:
        return (1 << (self.in_w - 1)) | (int(last) << (self.in_w - 2))

    def decode(self, v: int):
        eos, last = (v >> (self.out_addr + 1)) & 1, (v >> self.out_addr) & 1
        if self.vector:
            return eos, last, (v & ((1 << self.ocw) - 1), 0, 0)
        c = (v >> (self.oyw + self.oxw)) & ((1 << self.ocw) - 1)
        return eos, last, (c, (v >> self.oxw) & ((1 << self.oyw) - 1), v & ((1 << self.oxw) - 1))

    def golden(self, maps) -> list:
        """Per step: the set of (channel, oy, ox) that fire."""
        V = np.repeat(self.v_init[:, None, None], self.HO, 1).repeat(self.WO, 2)
        out = []
        for t, s in enumerate(maps):
            for c, y, x in np.argwhere(s):
                for ky in range(self.KH):
                    for kx in range(self.KW):
                        py, px = y + self.PT - ky, x + self.PL - kx
                        if py % self.SH or px % self.SW:
                            continue
                        oy, ox = py // self.SH, px // self.SW
                        if 0 <= oy < self.HO and 0 <= ox < self.WO:
                            V[:, oy, ox] += self.w[:, c, ky, kx]
            v1 = V + self.b[:, None, None]
            d1 = v1 - self.theta[:, None, None]
            fire = d1 >= 0
            V = np.clip(np.where(fire, d1 if self.cfg["reset_sub"] else 0, v1), self.cfg["vmin"], self.cfg["vmax"])
            if t == len(maps) - 1:
                V = np.repeat(self.v_init[:, None, None], self.HO, 1).repeat(self.WO, 2)
            out.append({tuple(int(v) for v in i) for i in np.argwhere(fire)})
        return out


@cocotb.test()
async def abort_races(dut):
    cfg = json.loads(os.environ["SNNHW_ENGINE"])
    L = Layer(cfg)
    rng = np.random.default_rng(cfg["seed"])
    prng = random.Random(cfg["seed"])
    images = []   # (maps, tokens per step)
    for n_steps in cfg["images"]:
        maps, toks = [], []
        for t in range(n_steps):
            s = (rng.random((L.C, L.H, L.W)) < float(rng.choice(cfg["densities"]))).astype(np.uint8)
            idx = rng.permutation(np.argwhere(s)) if s.any() else np.zeros((0, 3), int)
            toks.append([L.spike_token(*i) for i in idx] + [L.eos_token(t == n_steps - 1)])
            maps.append(s)
        images.append((maps, toks))
    stream = [(k, tok) for k, (_, toks) in enumerate(images) for step in toks for tok in step]
    n_tok = [sum(len(step) for step in toks) for _, toks in images]
    steps_through = np.cumsum([len(toks) for _, toks in images])
    target = {k: PHASES[(k // 2) % len(PHASES)] for k in range(0, len(images) - 1, 2)}

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    for name in ("in_valid", "in_data", "out_ready", "img_abort", "s_valid", "s_pixel", "s_last", "cfg_timesteps",
                 "img_room", "exit_now", "res_eos_ready"):
        getattr(dut, name).value = 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0

    received, partial = [], []   # completed output steps (set, last, count, cycle); spikes of the step under way
    taken = [0] * len(images)    # tokens taken per image
    pos, presenting, cycles, drain = 0, False, 0, 0
    abort_cycle, abort_left, exit_image = {}, 0, None
    gave_up = set()              # images whose phase never came (their abort is not raised)
    limit = 200 * sum(n_tok) + 2000 * len(images)
    while True:
        await FallingEdge(dut.clk)
        cycles += 1
        assert cycles < limit, f"timeout: {len(received)} steps out, input at {pos}/{len(stream)}"
        in_ready, out_valid, out_data = int(dut.in_ready.value), int(dut.out_valid.value), int(dut.out_data.value)
        state, busy, last = int(dut.state.value), int(dut.it_valid.value), int(dut.step_last.value)
        eos_out = out_valid and (out_data >> (L.out_addr + 1)) & 1
        force_ready = False

        # the abort: raised at its image's phase, held a random time; later images wait until it falls
        if abort_left:
            abort_left -= 1
            if abort_left == 0:
                dut.img_abort.value = 0
                exit_image = None
        cur = stream[pos][0] if pos < len(stream) else len(images)
        for k, phase in target.items():
            if (k in abort_cycle or k in gave_up or abort_left or not taken[k] or cur > k + 1 or
                    (cur == k + 1 and taken[k + 1])):
                continue
            done = len(received) >= steps_through[k]
            if done and phase != "after":
                gave_up.add(k)
                exit_image = None
                continue
            hit = {"first": taken[k] == 1 and not done, "idle": state == S_EVENTS and not busy and not done,
                   "scatter": state == S_EVENTS and busy, "drain": state == S_DRAIN,
                   "sweep": state == S_FIRE and not last, "flush": state == S_FLUSH and not last,
                   "eos": state == S_EOS and not last, "last-sweep": state == S_FIRE and last,
                   "last-eos": state == S_EOS and last and not done,
                   "last-eos-out": state == S_EOS and last and eos_out and not done, "after": done}[phase]
            if hit:
                abort_cycle[k] = cycles
                abort_left = prng.choice((1, 2, prng.randrange(3, 60)))
                dut.img_abort.value = 1
                exit_image = k
                force_ready = phase == "last-eos-out"
            elif taken[k] == n_tok[k] and cur == k + 1:
                exit_image = k   # its tokens are all in: the next image's wait for its abort
        held = exit_image is not None and pos < len(stream) and stream[pos][0] > exit_image

        # input side
        if not presenting and not held and pos < len(stream) and prng.random() >= (0.3, 0.0, 0.6)[cur % 3]:
            presenting = True
        if presenting:
            dut.in_valid.value = 1
            dut.in_data.value = stream[pos][1]
            if in_ready:
                taken[stream[pos][0]] += 1
                pos += 1
                presenting = False
        else:
            dut.in_valid.value = 0
            dut.in_data.value = prng.getrandbits(L.in_w)

        # output side
        ready = 1 if force_ready else int(prng.random() < (0.7, 1.0, 0.3)[cur % 3])
        dut.out_ready.value = ready
        if out_valid and ready:
            eos, flag, coord = L.decode(out_data)
            if eos:
                received.append((set(partial), bool(flag), len(partial), cycles))
                partial = []
            else:
                assert not flag, f"spike token {coord} with the last flag"
                partial.append(coord)
        if len(received) >= steps_through[-1] and pos == len(stream) and not abort_left:
            drain += 1
            if drain > 100:
                break
    assert not partial and len(received) == steps_through[-1], f"{len(received)} steps out, {partial} left"
    missed = sorted(set(target.values()) - {target[k] for k in abort_cycle})
    assert not missed, f"phases never hit: {missed} (weak test)"

    at, dropped = 0, 0
    for k, (maps, _) in enumerate(images):
        cut = None   # the first step that ended after the abort was raised
        for t, want in enumerate(L.golden(maps)):
            got, flag, n, when = received[at]
            at += 1
            assert n == len(got), f"image {k} step {t}: a neuron spiked twice"
            assert flag == (t == len(maps) - 1), f"image {k} step {t}: last flag {flag}"
            if k in abort_cycle and when > abort_cycle[k] and cut is None:
                cut = t
            if cut is None:
                assert got == want, (f"image {k} step {t} (abort: {target.get(k)}): spikes missing "
                                     f"{sorted(want - got)}, extra {sorted(got - want)}")
            else:
                assert target[k] not in ("last-eos-out", "after"), f"image {k}: an abort at its end changed it"
                assert got <= want and (t == cut or not got), \
                    f"image {k} step {t} (abort {target[k]} seen in step {cut}): {sorted(got)}, golden {sorted(want)}"
                dropped += len(want) - len(got)
    assert dropped > 0, "no abort dropped a spike: weak test"
    dut._log.info(f"{len(images)} images, {at} steps, aborts at {sorted(abort_cycle.items())}, "
                  f"{dropped} golden spikes dropped")
