"""cocotb tests of snn_event_merge: N_IN random token streams (images of steps, 0..several events per input
per step, random valid gaps) against random out_ready stalls.

Checked every cycle: an input token is taken only when its step is open (every input's eos of the previous
step taken); the output of a step is exactly the inputs' events of that step, each with its src, in each
input's order (the last bit of an event passes through); exactly one eos per step, with the step's last,
src and payload 0, only after every input's eos of the step; an input that keeps offering an event is
served within N_IN - 1 events of the others. With every input always valid and no stall, one token per
cycle leaves, exactly. Parameters come from ``SNNHW_PARAMS`` (JSON); ``SNNHW_MERGE_MODE=mismatch`` runs the
test whose inputs disagree on last (the simulation must stop).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
N_IN = int(PARAMS.get("N_IN", 2))
PAYLOAD_W = int(PARAMS.get("PAYLOAD_W", 8))
SRC_W = max(1, (N_IN - 1).bit_length())
IN_W = 2 + PAYLOAD_W
MODE = os.environ.get("SNNHW_MERGE_MODE", "")


def make_steps(rng, images, max_steps, max_events, p_empty=0.25, weights=None):
    """A list of steps (last, events) where events[k] = [(payload, last bit), ...] of input k."""
    steps = []
    weights = weights or [1.0] * N_IN
    for _ in range(images):
        n = rng.randint(1, max_steps)
        for s in range(n):
            events = []
            for k in range(N_IN):
                cnt = 0 if rng.random() < p_empty else rng.randint(1, max(1, round(max_events * weights[k])))
                events.append([(rng.randrange(1 << PAYLOAD_W), rng.randrange(2)) for _ in range(cnt)])
            steps.append((int(s == n - 1), events))
    return steps


def streams_of(steps):
    """Per input, its tokens (eos, last, payload, step)."""
    streams = [[] for _ in range(N_IN)]
    for s, (last, events) in enumerate(steps):
        for k in range(N_IN):
            streams[k] += [(0, lb, p, s) for p, lb in events[k]]
            streams[k].append((1, last, 0, s))
    return streams


def encode(tok):
    eos, last, payload, _ = tok
    return (eos << (IN_W - 1)) | (last << (IN_W - 2)) | payload


async def start(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await reset(dut)


async def reset(dut):
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.in_data.value = 0
    dut.out_ready.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def run(dut, steps, p_valid, p_ready, seed, label):
    """Drive ``steps`` through the merge and check everything; returns the cycles of the output tokens."""
    rng = random.Random(seed)
    streams = streams_of(steps)
    pos = [0] * N_IN            # next token of each input
    offering = [False] * N_IN   # a token is held on in_valid until taken
    eos_taken = [0] * N_IN      # eos tokens taken per input
    ev_taken = [0] * N_IN       # events of the current step taken per input (reset at its eos)
    waited = [0] * N_IN         # events of other inputs taken while this input's eligible event waited
    out_step = 0
    got = [[] for _ in range(N_IN)]   # events out of the current output step, per src
    out_cycles = []
    cycle = 0
    limit = 200 + 40 * sum(len(s) for s in streams) / max(0.05, min(p_valid) * p_ready)
    while out_step < len(steps):
        word = 0
        for k in range(N_IN):
            if not offering[k] and pos[k] < len(streams[k]) and rng.random() < p_valid[k]:
                offering[k] = True
            tok = streams[k][pos[k]] if offering[k] else (rng.randrange(2), rng.randrange(2),
                                                          rng.randrange(1 << PAYLOAD_W), None)
            word |= encode(tok) << (k * IN_W)
        valid = sum(int(offering[k]) << k for k in range(N_IN))
        out_ready = int(rng.random() < p_ready)
        dut.in_valid.value = valid
        dut.in_data.value = word
        dut.out_ready.value = out_ready
        await ReadOnly()
        in_ready = int(dut.in_ready.value)
        where = f"{label} cycle {cycle}"

        open_step = min(eos_taken)   # tokens of steps <= open_step may be taken
        taken = [offering[k] and (in_ready >> k) & 1 for k in range(N_IN)]
        ev_handshakes = 0
        for k in range(N_IN):
            if not taken[k]:
                continue
            eos, last, payload, s = streams[k][pos[k]]
            assert s <= open_step, f"{where}: input {k} token of step {s} taken before every eos of step {s - 1}"
            if eos:
                eos_taken[k] += 1
                ev_taken[k] = 0
            else:
                ev_handshakes += 1
                ev_taken[k] += 1
                waited[k] = 0
            pos[k] += 1
            offering[k] = False
        assert ev_handshakes <= 1, f"{where}: {ev_handshakes} events taken in one cycle"
        for k in range(N_IN):   # fairness: an eligible event waits at most N_IN - 1 events of the others
            if offering[k] and not taken[k]:
                eos, _, _, s = streams[k][pos[k]]
                if not eos and s <= open_step:
                    waited[k] += ev_handshakes
                    assert waited[k] <= N_IN - 1, f"{where}: input {k} waited {waited[k]} events of others"

        if int(dut.out_valid.value) and out_ready:
            out_cycles.append(cycle)
            v = int(dut.out_data.value)
            payload = v & ((1 << PAYLOAD_W) - 1)
            src = (v >> PAYLOAD_W) & ((1 << SRC_W) - 1)
            last = (v >> (PAYLOAD_W + SRC_W)) & 1
            eos = v >> (PAYLOAD_W + SRC_W + 1)
            assert out_step < len(steps), f"{where}: a token after the last step"
            step_last, events = steps[out_step]
            if eos:
                assert src == 0 and payload == 0, f"{where}: eos with src {src} payload {payload:#x}"
                assert last == step_last, f"{where}: step {out_step} eos last {last}, expected {step_last}"
                assert min(eos_taken) >= out_step + 1, \
                    f"{where}: step {out_step} eos out before every input's eos ({eos_taken})"
                for k in range(N_IN):
                    assert got[k] == events[k], \
                        f"{where}: step {out_step} input {k}: events out {got[k]}, expected {events[k]}"
                out_step += 1
                got = [[] for _ in range(N_IN)]
            else:
                assert src < N_IN, f"{where}: src {src} out of range"
                got[src].append((payload, last))
                n = len(got[src])
                assert got[src] == events[src][:n], \
                    f"{where}: step {out_step} input {src}: events out {got[src]}, expected {events[src]}"
        await FallingEdge(dut.clk)
        cycle += 1
        assert cycle < limit, f"{label}: stuck at output step {out_step} of {len(steps)} (inputs at {pos})"
    assert all(p == len(s) for p, s in zip(pos, streams))
    # nothing more comes out
    dut.in_valid.value = 0
    dut.out_ready.value = 1
    for _ in range(3):
        await ReadOnly()
        assert not int(dut.out_valid.value), f"{label}: a token after the last step"
        await FallingEdge(dut.clk)
    return out_cycles


@cocotb.test()
async def random_traffic(dut):
    """Images of several steps, random gaps per input, random stalls, skewed event counts."""
    if MODE:
        return
    await start(dut)
    rng = random.Random(11)
    tokens = 0
    configs = [([0.5] * N_IN, 0.5), ([1.0] * N_IN, 0.3), ([0.3] * N_IN, 1.0), ([0.9] * N_IN, 0.8),
               ([rng.uniform(0.1, 1.0) for _ in range(N_IN)], 0.6), ([1.0] * N_IN, 1.0)]
    for i, (pv, pr) in enumerate(configs):
        weights = [1.0] * N_IN if i % 2 else [rng.choice([0.2, 1.0, 3.0]) for _ in range(N_IN)]
        steps = make_steps(random.Random(100 + i), images=5, max_steps=4, max_events=6, weights=weights)
        out = await run(dut, steps, pv, pr, seed=200 + i, label=f"config {i}")
        tokens += len(out)
    assert tokens > 300, f"too little traffic ({tokens} tokens)"


@cocotb.test()
async def empty_steps(dut):
    """Steps where every input has no event, or only one input has events."""
    if MODE:
        return
    await start(dut)
    rng = random.Random(5)
    steps = []
    for s in range(12):
        events = [[] for _ in range(N_IN)]
        if s % 3 == 1:
            k = rng.randrange(N_IN)
            events[k] = [(rng.randrange(1 << PAYLOAD_W), 0) for _ in range(rng.randint(1, 4))]
        steps.append((int(s % 4 == 3), events))
    for i, (pv, pr) in enumerate([(1.0, 1.0), (0.5, 0.5), (1.0, 0.2)]):
        await run(dut, steps, [pv] * N_IN, pr, seed=300 + i, label=f"empty {i}")


@cocotb.test()
async def full_rate(dut):
    """Every input always valid, no stall: one token leaves every cycle from the first to the last, exactly."""
    if MODE:
        return
    await start(dut)
    for i, (p_empty, max_events) in enumerate([(0.25, 6), (0.0, 1), (0.6, 3), (1.0, 1)]):
        steps = make_steps(random.Random(400 + i), images=4, max_steps=4, max_events=max_events, p_empty=p_empty)
        out = await run(dut, steps, [1.0] * N_IN, 1.0, seed=500 + i, label=f"full rate {i}")
        expected = sum(len(e) for _, ev in steps for e in ev) + len(steps)
        assert len(out) == expected
        assert out == list(range(out[0], out[0] + expected)), \
            f"full rate {i}: {expected} tokens in {out[-1] - out[0] + 1} cycles (bubbles)"
        assert out[0] == 1, f"full rate {i}: first token out at cycle {out[0]}, expected 1"


@cocotb.test()
async def reset_forgets_held_eos(dut):
    """An eos taken before a reset is forgotten: after it the inputs start a fresh step."""
    if MODE:
        return
    await start(dut)
    dut.in_valid.value = 1
    dut.in_data.value = 1 << (IN_W - 1)   # input 0: eos
    dut.out_ready.value = 0
    await ReadOnly()
    assert int(dut.in_ready.value) & 1, "an eos is taken at once"
    await FallingEdge(dut.clk)
    dut.in_data.value = 0                 # input 0: an event of the next step
    await ReadOnly()
    assert not int(dut.in_ready.value) & 1, "input 0 must stall after its eos"
    await FallingEdge(dut.clk)
    await reset(dut)
    await ReadOnly()
    assert not int(dut.out_valid.value), "reset must empty the output register"
    await FallingEdge(dut.clk)
    steps = make_steps(random.Random(9), images=2, max_steps=3, max_events=4)
    await run(dut, steps, [0.7] * N_IN, 0.7, seed=600, label="after reset")


@cocotb.test()
async def last_mismatch(dut):
    """SNNHW_MERGE_MODE=mismatch: input 0 ends the image, the others do not; the simulation must stop."""
    if MODE != "mismatch":
        return
    await start(dut)
    word = 0
    for k in range(N_IN):
        word |= ((1 << (IN_W - 1)) | (int(k == 0) << (IN_W - 2))) << (k * IN_W)
    dut.in_valid.value = (1 << N_IN) - 1
    dut.in_data.value = word
    dut.out_ready.value = 1
    for _ in range(4):
        await FallingEdge(dut.clk)
