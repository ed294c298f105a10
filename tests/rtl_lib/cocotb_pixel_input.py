"""cocotb tests of snn_pixel_input against a cycle-accurate Python model.

Parameters come from ``SNNHW_PARAMS`` (JSON). Images of CHANNELS*HEIGHT*WIDTH pixels are fed with random
gaps while cfg_timesteps changes at random (also within an image): px_c / px_y / px_x must count in C-H-W
order, px_first / px_last mark the image's ends, t_steps is cfg_timesteps sampled with the first pixel
(0 -> 1, above T_MAX -> T_MAX) and the sticky framing_error rises on a pixel_last that disagrees with the
count, which stays authoritative (the next image starts after CHANNELS*HEIGHT*WIDTH pixels, whatever
pixel_last said).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

P = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
C, H, W = int(P.get("CHANNELS", 1)), int(P.get("HEIGHT", 1)), int(P.get("WIDTH", 1))
T_MAX, STEP_W = int(P.get("T_MAX", 1)), int(P.get("STEP_W", 1))
N = C * H * W


def clamp(t):
    return 1 if t == 0 else min(t, T_MAX)


class PixelModel:
    def __init__(self):
        self.reset()

    def reset(self):
        self.n, self.t_steps, self.framing_error = 0, 1, 0

    def outputs(self):
        return dict(px_c=self.n // (H * W), px_y=(self.n // W) % H, px_x=self.n % W, px_first=int(self.n == 0),
                    px_last=int(self.n == N - 1), t_steps=self.t_steps, framing_error=self.framing_error)

    def step(self, rst, take, last, cfg):
        if rst:
            self.reset()
        elif take:
            if self.n == 0:
                self.t_steps = clamp(cfg)
            if last != int(self.n == N - 1):
                self.framing_error = 1
            self.n = (self.n + 1) % N


async def reset(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.pixel_take.value = 0
    dut.pixel_last.value = 0
    dut.cfg_timesteps.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


def check(dut, model, cycle):
    for name, exp in model.outputs().items():
        got = int(getattr(dut, name).value)
        assert got == exp, f"cycle {cycle}: {name} {got}, expected {exp} (pixel {model.n} of {N})"


def cfg_value(rng):
    top = (1 << STEP_W) - 1
    return rng.choice([0, 1, T_MAX, T_MAX - 1 if T_MAX > 1 else 0, min(T_MAX + 1, top), top,
                       rng.randrange(top + 1)])


async def feed(dut, model, rng, cycle, pixels, bad_last=None, p_take=0.6, p_reset=0.0):
    """Feed ``pixels`` pixels with random gaps and a random cfg_timesteps every cycle; pixel_last follows the
    model's count except on the pixel ``bad_last`` (an early tlast, or a missing one). Returns the cycle."""
    fed = 0
    while fed < pixels:
        take = int(rng.random() < p_take)
        rst = int(rng.random() < p_reset)
        last = int(model.n == N - 1)
        if take and fed == bad_last:
            last ^= 1
        if not take:
            last = rng.randrange(2)       # ignored
        cfg = cfg_value(rng)
        dut.rst.value = rst
        dut.pixel_take.value = take
        dut.pixel_last.value = last
        dut.cfg_timesteps.value = cfg
        await ReadOnly()
        check(dut, model, cycle)
        model.step(rst, take, last, cfg)
        fed += take and not rst
        cycle += 1
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    return cycle


async def pulse_reset(dut, model, cycle):
    dut.rst.value = 1
    await ReadOnly()
    check(dut, model, cycle)
    model.step(1, 0, 0, 0)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    return cycle + 1


@cocotb.test()
async def images(dut):
    """Clean images (gaps, back to back, changing cfg), then framing errors (a missing tlast, then after a
    reset an early one: sticky, the count goes on), a reset in mid-image, clean images again, random resets."""
    await reset(dut)
    rng = random.Random(int(os.environ.get("SNNHW_SEED", "3")))
    model = PixelModel()
    cycle = 0
    firsts = set()
    for i in range(12):   # clean images, mostly gaps, then back to back
        cycle = await feed(dut, model, rng, cycle, N, p_take=0.5 if i < 6 else 1.0)
        firsts.add(model.t_steps)
        assert model.framing_error == 0
    # a missing tlast (on the image's last pixel): the error rises and stays
    cycle = await feed(dut, model, rng, cycle, N, bad_last=N - 1)
    assert model.framing_error == 1
    cycle = await feed(dut, model, rng, cycle, 2 * N)                        # sticky
    cycle = await pulse_reset(dut, model, cycle)
    # an early tlast (on a random pixel but the last): the error rises, the count goes on
    cycle = await feed(dut, model, rng, cycle, N + N // 2, bad_last=rng.randrange(N - 1) if N > 1 else 0)
    assert model.framing_error == 1
    cycle = await feed(dut, model, rng, cycle, 2 * N)                        # sticky
    # a reset (in mid-image when N > 1): error cleared, count and t_steps back to their reset values
    cycle = await pulse_reset(dut, model, cycle)
    for _ in range(8):
        cycle = await feed(dut, model, rng, cycle, N, p_take=0.7)
        firsts.add(model.t_steps)
    # random resets now and then
    cycle = await feed(dut, model, rng, cycle, 6 * N, p_reset=0.02)
    await ReadOnly()
    check(dut, model, cycle)
    dut._log.info(f"pixel_input: {cycle} cycles, t_steps seen {sorted(firsts)}")


@cocotb.test()
async def timesteps_clamp(dut):
    """Every cfg_timesteps value (0 .. 2**STEP_W - 1, at most 300 of them) on one first pixel each; a different
    value on every later pixel of the image leaves t_steps alone."""
    await reset(dut)
    rng = random.Random(4)
    model = PixelModel()
    values = list(range(1 << STEP_W))
    if len(values) > 300:
        values = values[:100] + rng.sample(values[100:], 200)
    cycle = 0
    for v in values:
        for k in range(N):
            cfg = v if k == 0 else rng.randrange(1 << STEP_W)
            dut.pixel_take.value = 1
            dut.pixel_last.value = int(k == N - 1)
            dut.cfg_timesteps.value = cfg
            await ReadOnly()
            check(dut, model, cycle)
            model.step(0, 1, int(k == N - 1), cfg)
            cycle += 1
            await FallingEdge(dut.clk)
        dut.pixel_take.value = 0
        dut.cfg_timesteps.value = rng.randrange(1 << STEP_W)
        await ReadOnly()
        check(dut, model, cycle)
        assert int(dut.t_steps.value) == clamp(v), f"cfg_timesteps {v}: t_steps {int(dut.t_steps.value)}"
        model.step(0, 0, 0, 0)
        cycle += 1
        await FallingEdge(dut.clk)
