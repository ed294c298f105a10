"""cocotb test of snn_spike_emitter: a credit-controlled producer pushes fire-sweep words {group, oy, ox, mask};
the spikes must come out in push order, one per set lane, lowest lane first, as channel group*LANES + lane at
the word's position; busy is high exactly while something is queued or being emitted.

Parameters come from ``SNNHW_PARAMS`` (JSON); ``SNNHW_CHANNELS`` is the layer's channel count (the last group
may be partial: its missing lanes never fire), ``SNNHW_PRODUCER_LATENCY`` the producer's latency from seeing
push_room to pushing (PUSH_LATENCY unless the test checks the overflow assertion with one cycle more).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
LANES = int(PARAMS["LANES"])
GROUP_W = int(PARAMS["GROUP_W"])
CHANNEL_W = int(PARAMS["CHANNEL_W"])
POSITION = int(PARAMS.get("POSITION", 1))
OY_W = int(PARAMS.get("OY_W", 1))
OX_W = int(PARAMS.get("OX_W", 1))
DEPTH = int(PARAMS.get("DEPTH", 8))
PUSH_LATENCY = int(PARAMS.get("PUSH_LATENCY", 3))
CHANNELS = int(os.environ.get("SNNHW_CHANNELS", LANES))
LATENCY = int(os.environ.get("SNNHW_PRODUCER_LATENCY", PUSH_LATENCY))
GROUPS = -(-CHANNELS // LANES)
LAST_LANES = CHANNELS - (GROUPS - 1) * LANES
assert GROUPS <= 1 << GROUP_W and CHANNELS <= 1 << CHANNEL_W


class Producer:
    """The fire sweep: decides on push_room, pushes LATENCY cycles later (a single-cycle pulse)."""

    def __init__(self, rng):
        self.rng = rng
        self.pipe = [None] * LATENCY   # decided words on their way to push (None: no push)

    def word(self):
        rng = self.rng
        group = rng.randrange(GROUPS)
        lanes = LAST_LANES if group == GROUPS - 1 else LANES
        full = (1 << lanes) - 1
        r = rng.random()
        if r < 0.2:
            mask = full
        elif r < 0.45:
            mask = 1 << rng.randrange(lanes)
        else:
            mask = rng.randint(1, full)
        return group, rng.randrange(1 << OY_W), rng.randrange(1 << OX_W), mask

    def flush(self):
        self.pipe = [None] * LATENCY


def expand(word):
    """The spikes of one pushed word: (channel, oy, ox), lowest lane first."""
    group, oy, ox, mask = word
    if not POSITION:
        oy = ox = 0
    return [(group * LANES + p, oy, ox) for p in range(LANES) if mask >> p & 1]


async def reset(dut, cycles=2):
    dut.rst.value = 1
    dut.push.value = 0
    for _ in range(cycles):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


@cocotb.test()
async def emitter(dut):
    """Random words and back-pressure phases (long stalls fill the queue to its credit), one reset mid-run,
    then a drain; every cycle checks busy, the valid/ready hold and the emitter's pace, every accepted spike
    its expected value."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    rng = random.Random(LANES * 1000 + POSITION * 100 + DEPTH * 10 + LATENCY)
    dut.spike_ready.value = 0
    dut.push_group.value = 0
    dut.push_oy.value = 0
    dut.push_ox.value = 0
    dut.push_mask.value = 0
    await reset(dut)
    prod = Producer(rng)
    words = []      # pushed words not completely emitted (at earlier edges): lists of their remaining spikes
    held = None     # the spike offered and refused in the previous cycle
    idle = 0        # consecutive cycles with words outstanding but no spike offered
    stats = dict(spikes=0, words=0, room_low=0, full_words=0, single=0, refused=0)
    cycles, drain = 3000, 200
    for cycle in range(cycles + drain):
        if cycle == cycles // 2:       # a reset mid-run empties queue and emitter (and the sweep's pipeline)
            await reset(dut)
            prod.flush()
            words, held, idle = [], None, 0
        room = int(dut.push_room.value)   # registered: settled since the rising edge
        stats["room_low"] += not room
        phase = (cycle // 150) % 4        # 0: a stalled consumer and a producer pushing whenever it may
        decide = cycle < cycles - drain and room and (phase == 0 or rng.random() < 0.7)
        prod.pipe.append(prod.word() if decide else None)
        word = prod.pipe.pop(0)           # decided LATENCY cycles ago, when push_room was high
        p_ready = 1.0 if cycle >= cycles - drain else (0.05, 0.9, 0.5, 1.0)[phase]
        ready = int(rng.random() < p_ready)
        dut.spike_ready.value = ready
        dut.push.value = int(word is not None)
        if word is not None:
            dut.push_group.value, dut.push_oy.value, dut.push_ox.value, dut.push_mask.value = word
        else:   # junk on the data lines while push is low
            dut.push_group.value = rng.randrange(1 << GROUP_W)
            dut.push_mask.value = rng.randrange(1 << LANES)
        await ReadOnly()

        busy, valid = int(dut.busy.value), int(dut.spike_valid.value)
        assert busy == int(bool(words)), f"cycle {cycle}: busy {busy} with {len(words)} word(s) outstanding"
        assert valid or held is None, f"cycle {cycle}: spike_valid fell before the spike {held} was taken"
        idle = idle + 1 if words and not valid else 0
        assert idle <= 1, f"cycle {cycle}: {len(words)} word(s) outstanding but no spike offered for {idle} cycles"
        if valid:
            assert words, f"cycle {cycle}: spike_valid with nothing pushed"
            got = (int(dut.spike_channel.value), int(dut.spike_oy.value), int(dut.spike_ox.value))
            exp = words[0][0]
            assert got == exp, (f"cycle {cycle}: spike (channel, oy, ox) = {got}, expected {exp} "
                                f"(rest of the word {words[0][1:]})")
            assert held is None or got == held, f"cycle {cycle}: held spike changed from {held} to {got}"
            if ready:
                words[0].pop(0)
                if not words[0]:
                    words.pop(0)
                stats["spikes"] += 1
                held = None
            else:
                held = got
                stats["refused"] += 1
        if word is not None:
            words.append(expand(word))
            stats["words"] += 1
            stats["full_words"] += word[3] == (1 << LANES) - 1
            stats["single"] += bin(word[3]).count("1") == 1
        await FallingEdge(dut.clk)
    await ReadOnly()
    assert not words and int(dut.busy.value) == 0, f"{len(words)} word(s) never emitted"
    dut._log.info(f"stats: {stats}")
    assert stats["spikes"] > 500 and stats["room_low"] > 20 and stats["refused"] > 100 and \
        stats["full_words"] > 5 and stats["single"] > 5, stats
