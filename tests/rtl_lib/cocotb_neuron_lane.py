"""cocotb test of snn_neuron_lane against a Python model of the numeric contract (docs/numeric_contract.md,
snnhw/reference/golden.py): scatter increments and the fire sweep, random and edge operands.

Parameters come from ``SNNHW_PARAMS`` (JSON); VMIN/VMAX arrive as 64-bit Verilog literals (``64'sh...``).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))


def _int(value):
    """A parameter value: an int, or a Verilog literal 64'sh... (two's complement)."""
    if isinstance(value, int):
        return value
    v = int(value.split("'sh")[1], 16)
    return v - (1 << 64) if v >> 63 else v


SPIKING = _int(PARAMS.get("SPIKING", 1))
RESET_SUB = _int(PARAMS.get("RESET_SUB", 1))
V_INIT_HALF = _int(PARAMS.get("V_INIT_HALF", 0))
INCREMENT = _int(PARAMS.get("INCREMENT", 0))
ACC_BITS = _int(PARAMS.get("ACC_BITS", 8))
WEIGHT_BITS = _int(PARAMS.get("WEIGHT_BITS", 4))
MEM_BITS = _int(PARAMS.get("MEM_BITS", 8))
ADD_BITS = _int(PARAMS.get("ADD_BITS", 8))
THETA_BITS = _int(PARAMS.get("THETA_BITS", 4))
VMIN = _int(PARAMS.get("VMIN", -128))
VMAX = _int(PARAMS.get("VMAX", 127))


def smin(bits):
    return -(1 << (bits - 1))


def smax(bits):
    return (1 << (bits - 1)) - 1


def wrap(v, bits):
    """v as the unsigned bit pattern of a bits-wide word."""
    return v & ((1 << bits) - 1)


def signed(u, bits):
    u &= (1 << bits) - 1
    return u - (1 << bits) if u >> (bits - 1) else u


def fire_model(v, add, theta, step, exists, reinit):
    """(fire, v_new, potential) as signed/unsigned ints: the contract's fire phase for one neuron."""
    v1 = v + add
    if not SPIKING:
        return 0, (0 if reinit else signed(v1, MEM_BITS)), signed(v1, MEM_BITS)
    fire = int(bool(step) and bool(exists) and v1 >= theta)
    if fire:
        v_next = (v1 - theta) if RESET_SUB else 0
    else:
        v_next = v1
    v_next = min(max(v_next, VMIN), VMAX)
    v_init = (theta >> 1) if V_INIT_HALF else 0
    return fire, (v_init if reinit else v_next), 0


class Stimulus:
    """Operands biased to the edges: range ends, clamp bounds, v + add at theta and theta - 1."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def pick(self, lo, hi, extra=()):
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice([x for x in (lo, hi, 0, 1, -1, *extra) if lo <= x <= hi])
        return self.rng.randint(lo, hi)

    def fire_operands(self):
        rng = self.rng
        vlo, vhi, alo, ahi = smin(MEM_BITS), smax(MEM_BITS), smin(ADD_BITS), smax(ADD_BITS)
        tmax = (1 << THETA_BITS) - 1
        v = self.pick(vlo, vhi, (VMIN, VMAX, VMIN - 1, VMAX + 1))
        add = self.pick(alo, ahi)
        theta = self.pick(1, tmax, (tmax, tmax - 1, 2))
        r = rng.random()
        if r < 0.35:   # v + add right at theta (fires) or theta - 1 (does not)
            target = theta - rng.choice((0, 1))
            if rng.random() < 0.5:
                add = target - v
                if not alo <= add <= ahi:
                    add = max(alo, min(ahi, add))
                    v = max(vlo, min(vhi, target - add))
            else:
                v = target - add
                if not vlo <= v <= vhi:
                    v = max(vlo, min(vhi, v))
                    add = max(alo, min(ahi, target - v))
        step = int(rng.random() < 0.85)
        exists = int(rng.random() < 0.85)
        reinit = int(rng.random() < 0.15)
        return v, add, theta, step, exists, reinit

    def scatter_operands(self):
        acc = self.pick(smin(ACC_BITS), smax(ACC_BITS))
        weight = self.pick(smin(WEIGHT_BITS), smax(WEIGHT_BITS))
        pixel = self.pick(0, 255, (254, 128, 127))
        unit = self.rng.randint(0, 1)
        return acc, weight, pixel, unit


@cocotb.test()
async def lane(dut):
    """Random and edge operands every cycle; fire sweep and scatter outputs checked each cycle."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    stim = Stimulus(seed=hash((SPIKING, RESET_SUB, V_INIT_HALF, INCREMENT, ACC_BITS, MEM_BITS)) & 0xFFFF)
    seen = dict(fire=0, no_fire=0, at_theta=0, below_theta=0, gated_step=0, gated_lane=0, reinit=0,
                clamp_hi=0, clamp_lo=0, potential_wrap=0)
    product_prev = None   # INCREMENT = 1: the weight * pixel presented in the previous cycle
    await FallingEdge(dut.clk)
    for cycle in range(2500):
        v, add, theta, step, exists, reinit = stim.fire_operands()
        acc, weight, pixel, unit = stim.scatter_operands()
        dut.v_cur.value = wrap(v, MEM_BITS)
        dut.add.value = wrap(add, ADD_BITS)
        dut.theta.value = theta
        dut.step.value = step
        dut.lane_exists.value = exists
        dut.reinit.value = reinit
        dut.acc_old.value = wrap(acc, ACC_BITS)
        dut.weight.value = wrap(weight, WEIGHT_BITS)
        dut.pixel.value = pixel
        dut.unit.value = unit
        await ReadOnly()

        ctx = (f"cycle {cycle}: v={v} add={add} theta={theta} step={step} lane_exists={exists} reinit={reinit}")
        fire, v_new, potential = fire_model(v, add, theta, step, exists, reinit)
        got_fire = int(dut.fire.value)
        got_v = dut.v_new.value.to_signed()
        got_pot = dut.potential.value.to_signed()
        assert got_fire == fire, f"{ctx}: fire {got_fire}, expected {fire}"
        assert got_v == v_new, f"{ctx}: v_new {got_v}, expected {v_new}"
        assert got_pot == potential, f"{ctx}: potential {got_pot}, expected {potential}"

        if INCREMENT == 0:
            exp_acc = signed(acc + weight, ACC_BITS)
        elif INCREMENT == 2:
            exp_acc = signed(acc + unit, ACC_BITS)
        else:
            exp_acc = None if product_prev is None else signed(acc + product_prev, ACC_BITS)
            product_prev = weight * pixel
        if exp_acc is not None:
            got_acc = dut.acc_new.value.to_signed()
            assert got_acc == exp_acc, (f"cycle {cycle}: acc_old={acc} weight={weight} pixel={pixel} unit={unit}: "
                                        f"acc_new {got_acc}, expected {exp_acc}")

        v1 = v + add
        if SPIKING and not reinit:
            would = v1 >= theta
            seen["at_theta"] += v1 == theta
            seen["below_theta"] += v1 == theta - 1
            seen["fire"] += fire
            seen["no_fire"] += step and exists and not would
            seen["gated_step"] += would and not step
            seen["gated_lane"] += would and not exists
            seen["clamp_hi"] += v_new == VMAX and (v1 - theta if fire and RESET_SUB else v1) > VMAX
            seen["clamp_lo"] += v_new == VMIN and (v1 - theta if fire and RESET_SUB else v1) < VMIN
        if not SPIKING:
            seen["potential_wrap"] += not smin(MEM_BITS) <= v1 <= smax(MEM_BITS)
        seen["reinit"] += reinit
        await FallingEdge(dut.clk)

    dut._log.info(f"coverage: {seen}")
    need = ["reinit"]
    if SPIKING:
        need += ["fire", "no_fire", "at_theta", "below_theta", "gated_step", "gated_lane", "clamp_lo"]
        if not (RESET_SUB == 0 and smax(ADD_BITS) + smax(MEM_BITS) <= VMAX):
            need.append("clamp_hi")
    for k in need:
        assert seen[k] >= 10, f"stimulus missed {k}: {seen}"
