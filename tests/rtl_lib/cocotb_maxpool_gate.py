"""cocotb test of snn_maxpool_gate (run by tests/rtl_lib/test_maxpool_gate.py).

Drives random spike images step by step (each input at most once per step,
in random order, with random in_valid gaps), end-of-step tokens with the last
flag on each image's last step, random out_ready back-pressure, several
images back to back and one reset in the middle of an image. Checks, per
step, the set of output spike tokens against the golden gate
(snnhw.reference.spike_ops.gate_counts, the numeric contract's "Max-pool
gate") and the end-of-step tokens' order and last flags.

With ``report`` set (a file name), writes the cycle count and, per image and
step, (input spikes, output spikes) as JSON (the cycle-model check of
test_maxpool_gate.py).

The configuration comes as JSON in ``SNNHW_GATE``: the module's parameters
plus ``seed``, ``images`` (steps per image), ``densities`` (spike
probabilities to pick from per step), ``gaps`` / ``readies`` (per image,
cyclically: in_valid gap and out_ready probabilities), ``abort`` (reset in the middle of image #abort, or -1),
``exits`` (image aborts: {image index: "mid" | "after"}), ``report`` and ``expect_localparams`` (names ->
values to check in the DUT).

Image aborts (the ``abort`` input) are driven as snn_exit_queue drives them: high for a random number of
cycles, never while a token of a later image has been taken (the next image's tokens wait until it falls).
"mid": raised once a random number (at least one) of the image's tokens has been taken, possibly after
the last one (and held past the gate's end of the image); the image's output steps that ended before it
are exact, the step under way when the gate sees it keeps a subset of its spikes, the later ones have none.
"after": raised once the image's last end-of-step token is out (the gate is clearing or waiting): no
effect. Every end-of-step token still passes with its last flag, and the next image is exact.
"""
from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from snnhw.reference.spike_ops import gate_counts


def _cfg() -> dict:
    return json.loads(os.environ["SNNHW_GATE"])


class Geometry:
    def __init__(self, p: dict):
        self.C, self.H, self.W = p["CHANNELS"], p["H_IN"], p["W_IN"]
        self.HO, self.WO = p["H_OUT"], p["W_OUT"]
        self.KH, self.KW, self.SH, self.SW, self.PT, self.PL = (p[k] for k in ("KH", "KW", "SH", "SW", "PT", "PL"))
        self.T_MAX = p["T_MAX"]
        self.icw, self.iyw, self.ixw = p["IN_CW"], p["IN_YW"], p["IN_XW"]
        self.ocw, self.oyw, self.oxw = p["OUT_CW"], p["OUT_YW"], p["OUT_XW"]
        self.in_w = self.icw + self.iyw + self.ixw + 2
        self.lcw = self.ocw + self.oyw + self.oxw
        # bottom / right padding implied by the output size (the golden gate takes all four; windows
        # past H_OUT / W_OUT, if the input has room for more, are cropped from its result)
        self.PB = max(0, (self.HO - 1) * self.SH + self.KH - self.H - self.PT)
        self.PR = max(0, (self.WO - 1) * self.SW + self.KW - self.W - self.PL)

    def spike_token(self, c, y, x) -> int:
        return (int(c) << (self.iyw + self.ixw)) | (int(y) << self.ixw) | int(x)

    def eos_token(self, last: bool, junk: int) -> int:
        low = junk & ((1 << (self.in_w - 2)) - 1)  # the other bits of an end-of-step token are ignored
        return (1 << (self.in_w - 1)) | (int(last) << (self.in_w - 2)) | low

    def decode_out(self, v: int):
        eos = (v >> (self.lcw + 1)) & 1
        last = (v >> self.lcw) & 1
        c = (v >> (self.oyw + self.oxw)) & ((1 << self.ocw) - 1)
        oy = (v >> self.oxw) & ((1 << self.oyw) - 1)
        ox = v & ((1 << self.oxw) - 1)
        return eos, last, (c, oy, ox)

    def golden_steps(self, spikes: list) -> list:
        """Per step of one image: (set of spiking windows (c, oy, ox), last flag)."""
        counts = np.zeros((1, self.C, self.H, self.W), dtype=np.int32)
        out = []
        for t, s in enumerate(spikes):
            s4 = s[None].astype(np.int32)
            counts += s4
            o = gate_counts(counts, s4, (self.KH, self.KW), (self.SH, self.SW), (self.PT, self.PL, self.PB, self.PR))
            assert o.shape[2] >= self.HO and o.shape[3] >= self.WO
            o = o[:, :, :self.HO, :self.WO]
            out.append(({tuple(int(v) for v in i) for i in np.argwhere(o[0])}, t == len(spikes) - 1))
        return out


def make_images(g: Geometry, cfg: dict, rng: np.random.Generator) -> list:
    """Per image: (spike maps per step, token list per step)."""
    images = []
    for n_steps in cfg["images"]:
        assert 1 <= n_steps <= g.T_MAX
        maps, toks = [], []
        for t in range(n_steps):
            p = float(rng.choice(cfg["densities"]))
            s = (rng.random((g.C, g.H, g.W)) < p).astype(np.uint8)
            idx = rng.permutation(np.argwhere(s)) if s.any() else np.zeros((0, 3), int)
            step = [g.spike_token(*i) for i in idx]
            step.append(g.eos_token(t == n_steps - 1, int(rng.integers(0, 1 << 30))))
            maps.append(s)
            toks.append(step)
        images.append((maps, toks))
    return images


@cocotb.test()
async def gate_matches_golden(dut):
    cfg = _cfg()
    g = Geometry(cfg)
    rng = np.random.default_rng(cfg["seed"])
    prng = random.Random(cfg["seed"])
    for name, value in cfg.get("expect_localparams", {}).items():
        got = int(getattr(dut, name).value)
        assert got == value, f"localparam {name} = {got}, expected {value}"

    images = make_images(g, cfg, rng)
    abort = cfg.get("abort", -1)
    exits = {int(k): v for k, v in cfg.get("exits", {}).items()}
    assert abort not in exits
    # the stream of inputs, with a reset marker in image #abort
    stream = []  # (image index, token) or (image index, None) for the reset
    for k, (_, toks) in enumerate(images):
        flat = [tok for step in toks for tok in step]
        if k == abort:
            cut = prng.randrange(max(1, len(flat) // 2), len(flat)) if len(flat) > 1 else 0
            flat = flat[:cut] + [None]
        stream.extend((k, tok) for tok in flat)

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.in_data.value = 0
    dut.out_ready.value = 0
    dut.img_abort.value = 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0

    gaps, readies = cfg["gaps"], cfg["readies"]  # per image, cyclically
    received = []       # completed output steps: (image index, set, last flag, eos low bits)
    partial = []        # spike tokens since the last end-of-step token
    image_of_step = []  # image index of each output step, in input order
    for k, (_, toks) in enumerate(images):
        image_of_step += [k] * len(toks)
    aborted_steps = None  # (image, completed steps) of the aborted image
    # image aborts: the stream position that raises a "mid" one, the steps out before an "after" one
    first_pos = {k: next(i for i, (j, _) in enumerate(stream) if j == k) for k in range(len(images))}
    exit_at = {}
    for k, mode in exits.items():
        n_tok = sum(len(t) for t in images[k][1])
        if mode == "mid":
            exit_at[k] = first_pos[k] + prng.randrange(1, n_tok + 1)
    abort_cycle = {}      # image -> the cycle abort was raised
    abort_left = 0        # cycles abort stays high
    exit_image = None     # the image being aborted (or waiting for its "after" abort)
    pos = 0
    presenting = False
    cycles = 0
    expected_eos = sum(len(toks) for k, (_, toks) in enumerate(images) if k != abort)
    limit = cfg["cycle_limit"]
    drain = 0
    last_out = 0
    reset_left = 0
    ready_burst = 0
    while True:
        await FallingEdge(dut.clk)
        cycles += 1
        assert cycles < limit, f"timeout after {cycles} cycles: {len(received)} steps out, input at {pos}/{len(stream)}"
        in_ready = int(dut.in_ready.value)
        out_valid = int(dut.out_valid.value)
        out_data = int(dut.out_data.value)

        if reset_left:
            reset_left -= 1
            if reset_left == 0:
                dut.rst.value = 0
            continue

        # image abort: raise it at its point, hold the later images' tokens until it falls
        if abort_left:
            abort_left -= 1
            if abort_left == 0:
                dut.img_abort.value = 0
                exit_image = None
        for k, mode in exits.items():
            if k in abort_cycle or abort_left:
                continue
            if ((mode == "mid" and pos >= exit_at[k]) or
                    (mode == "after" and len(received) >= sum(1 for i in image_of_step if i <= k))):
                abort_cycle[k] = cycles
                abort_left = prng.choice((1, 2, 3, prng.randrange(4, 80)))
                dut.img_abort.value = 1
                exit_image = k
            elif mode == "after" and pos >= first_pos[k] + sum(len(t) for t in images[k][1]):
                exit_image = k   # the image's tokens are all in: hold the next image's until the abort
        held = exit_image is not None and pos < len(stream) and stream[pos][0] > exit_image

        # input side: keep a presented token until it is taken, else maybe a gap
        at_reset = pos < len(stream) and stream[pos][1] is None
        if at_reset and len(received) >= sum(1 for i in image_of_step if i < stream[pos][0]):
            # reset in the middle of an image (once the earlier images are out): drop its partial output step
            k = stream[pos][0]
            done = len(received) - sum(1 for i in image_of_step[:len(received)] if i < k)
            aborted_steps = (k, done)
            # the steps of image k that did not complete are not expected any more
            image_of_step = image_of_step[:len(received)] + [i for i in image_of_step[len(received):] if i != k]
            partial = []
            pos += 1
            presenting = False
            dut.rst.value = 1
            dut.in_valid.value = 0
            dut.out_ready.value = 0
            reset_left = 2
            continue
        if not presenting and not held:
            if pos < len(stream) and not at_reset and prng.random() >= gaps[stream[pos][0] % len(gaps)]:
                presenting = True
        if presenting:
            dut.in_valid.value = 1
            dut.in_data.value = stream[pos][1]
            if in_ready:
                pos += 1
                presenting = False
        else:
            dut.in_valid.value = 0
            dut.in_data.value = prng.getrandbits(g.in_w)

        # output side: random back-pressure, sometimes in bursts
        if ready_burst:
            ready_burst -= 1
            ready = 0
        else:
            k = stream[min(pos, len(stream) - 1)][0]
            ready = int(prng.random() < readies[k % len(readies)])
            if prng.random() < 0.01:
                ready_burst = prng.randrange(5, 40)
        dut.out_ready.value = ready
        if out_valid and ready:
            eos, last, coord = g.decode_out(out_data)
            if eos:
                last_out = cycles
                assert coord == (0, 0, 0), f"end-of-step token with non-zero fields {coord}"
                received.append((set(partial), bool(last), len(partial), cycles))
                partial = []
            else:
                assert not last, f"spike token {coord} with the last flag"
                partial.append(coord)

        if len(received) >= len(image_of_step) and pos == len(stream) and not abort_left:
            drain += 1
            if drain > 200:
                break
    assert not partial, f"spike tokens after the final end-of-step token: {partial}"
    assert len(received) == len(image_of_step), f"{len(received)} output steps, expected {len(image_of_step)}"
    assert expected_eos + (aborted_steps[1] if aborted_steps else 0) == len(received)

    # compare with the golden gate, image by image
    at = 0
    n_spikes = 0
    dropped = {"mid": 0, "after": 0}   # golden spikes an image abort dropped
    for k, (maps, _) in enumerate(images):
        want = g.golden_steps(maps)
        if aborted_steps and aborted_steps[0] == k:
            want = want[:aborted_steps[1]]
        cut = None   # the first step of an aborted image that ended after the abort was raised
        for t, (w_set, w_last) in enumerate(want):
            got_set, got_last, n, when = received[at]
            assert n == len(got_set), f"image {k} step {t}: a window spiked twice"
            assert got_last == w_last, f"image {k} step {t}: last flag {got_last}, expected {w_last}"
            if k in abort_cycle and when > abort_cycle[k] and cut is None:
                cut = t
            if cut is None:
                assert got_set == w_set, (f"image {k} step {t}: spikes {sorted(got_set)}, expected {sorted(w_set)} "
                                          f"(missing {sorted(w_set - got_set)}, extra {sorted(got_set - w_set)})")
            else:   # aborted: what had been sent of the step under way, then nothing
                assert exits[k] == "mid", f"image {k} step {t}: an abort after the image's end changed it"
                assert got_set <= w_set and (t == cut or not got_set), \
                    f"image {k} step {t} (abort seen in step {cut}): spikes {sorted(got_set)}, golden {sorted(w_set)}"
                dropped[exits[k]] += len(w_set) - len(got_set)
            n_spikes += n
            at += 1
    assert set(abort_cycle) == set(exits), f"aborts raised for {sorted(abort_cycle)}, planned {sorted(exits)}"
    if "mid" in exits.values() and max(cfg["densities"]) > 0:
        assert dropped["mid"] > 0, "no image abort dropped a spike: weak test"
    dut._log.info(f"{len(images)} images, {at} steps, {n_spikes} output spikes, {last_out} cycles to the last "
                  "end-of-step token")
    if cfg.get("report"):
        steps = [[(int(m.sum()), len(w)) for m, (w, _) in zip(maps, g.golden_steps(maps))] for maps, _ in images]
        with open(cfg["report"], "w") as f:
            json.dump(dict(cycles=last_out, steps=steps), f)
