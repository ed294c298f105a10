"""cocotb tests of snn_host_link: the host side at byte level, a fake accelerator on the AXI4-Stream ports.

The host sends frames built with snnhw.board.protocol one character at a time (rx_active high for the
10 * DIVISOR cycles of a character, rx_valid pulsed in its stop bit, short random gaps between characters)
and reads the replies from tx_valid/tx_data with random tx_ready back-pressure (or UART-paced: one byte per
character time), parsing them with protocol.FrameParser. The fake accelerator takes the pixels with random
tready stalls, checks that it got exactly the image sent and cfg_timesteps, waits, then produces `timesteps`
class beats (tuser = 0) and CLASSES potential beats (tuser = 1, tlast on the last; negative values
sign-extended) derived from the image, with random tvalid gaps. RESULT must carry those beats, steps =
timesteps, and cycles = the bench's own count (first pixel accepted .. tlast beat accepted, both included).
CONFIG's exit rule is checked on cfg_exit_margin / cfg_exit_min_steps with every image's first pixel.

Parameters come from SNNHW_PARAMS (JSON); SNNHW_LINK_DIVISOR sets the character time (10 * DIVISOR cycles).
"""
import collections
import json
import os
import random
import zlib

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

from snnhw.board import protocol as proto

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
PIXELS = int(PARAMS.get("PIXELS", 784))
BEAT_BITS = int(PARAMS.get("BEAT_BITS", 16))
CLASSES = int(PARAMS.get("CLASSES", 10))
T_MAX = int(PARAMS.get("T_MAX", 300))
IDLE = int(PARAMS.get("IDLE_CYCLES", 1000))
DEFAULT_TS = int(PARAMS.get("DEFAULT_TIMESTEPS", 16))
DESIGN_ID = int(PARAMS.get("DESIGN_ID", 0))
CLOCK_HZ = int(PARAMS.get("CLOCK_HZ", 0))
STEP_W = int(PARAMS.get("STEP_W", 9))
EXIT_W = int(PARAMS.get("EXIT_W", 17))
DEFAULT_EXIT = (int(PARAMS.get("DEFAULT_EXIT_MARGIN", 0)), int(PARAMS.get("DEFAULT_EXIT_MIN_STEPS", 1)))
EXIT_MAX = (1 << EXIT_W) - 1
MIN_STEPS_MAX = (1 << STEP_W) - 1
BB = BEAT_BITS // 8
DIVISOR = int(os.environ.get("SNNHW_LINK_DIVISOR", "8"))
CHAR = 10 * DIVISOR          # cycles of one character on the line
PERIOD = 10                  # ns


def now() -> int:
    """The current cycle: cycle n runs from the rising edge at n * PERIOD to the next one."""
    return int(get_sim_time(unit="ns")) // PERIOD


def beats_for(pixels: bytes, timesteps: int):
    """The fake accelerator's answer to an image: `timesteps` classes and CLASSES signed potentials."""
    rng = random.Random(zlib.crc32(pixels) * 1000 + timesteps)
    classes = [rng.randrange(CLASSES) for _ in range(timesteps)]
    half = 1 << (BEAT_BITS - 1)
    pots = [rng.randrange(-half, half) for _ in range(CLASSES)]
    pots[rng.randrange(CLASSES)] = -rng.randrange(1, half + 1)   # at least one negative
    return classes, pots


class Bench:
    def __init__(self, dut, seed):
        self.dut = dut
        self.rng = random.Random(seed)
        # host side
        self.parser = proto.FrameParser()
        self.frames = []             # (Frame, cycle of its first byte)
        self.taken = 0               # frames consumed by the test
        self.frame_start = None
        self.tx_ready_p = 0.5        # random tx_ready
        self.tx_paced = False        # UART-paced tx_ready instead
        self.rx_log = []             # (byte, cycle, busy) of every character sent
        self.line_free = 0           # first cycle with rx_active low after the last character
        # fake accelerator
        self.pending = collections.deque()   # (pixels, timesteps) the link must feed next
        self.exit_rule = DEFAULT_EXIT        # (margin, min steps) cfg_exit_* must carry
        self.runs = collections.deque()      # (classes, pots, cycles) answered, for RESULT
        self.pix_ready_p = 0.7
        self.delay = (5, 40)                 # cycles between the last pixel and the first beat
        self.beat_valid_p = 0.6

    # ------------------------------------------------------------------ host
    async def send(self, data: bytes, gap=None):
        """Characters on the line: rx_active for CHAR cycles, rx_valid in the stop bit, then a gap."""
        dut = self.dut
        for b in data:
            await FallingEdge(dut.clk)
            dut.rx_active.value = 1
            await ClockCycles(dut.clk, CHAR - DIVISOR // 2 - 1, rising=False)
            dut.rx_valid.value = 1
            dut.rx_data.value = b
            await ReadOnly()
            self.rx_log.append((b, now(), int(dut.busy.value)))
            await FallingEdge(dut.clk)
            dut.rx_valid.value = 0
            await ClockCycles(dut.clk, DIVISOR // 2, rising=False)
            dut.rx_active.value = 0
            self.line_free = now()
            g = self.rng.randrange(0, 2 * DIVISOR + 1) if gap is None else gap
            if g:
                await ClockCycles(dut.clk, g, rising=False)

    async def tx_collector(self):
        """tx_ready random or paced; an offered byte must stay until taken; bytes go through the parser."""
        dut = self.dut
        offered = None
        ready_at = 0
        while True:
            if offered is None and not int(dut.tx_valid.value):
                await RisingEdge(dut.tx_valid)
            await FallingEdge(dut.clk)
            cycle = now()
            ready = int(cycle >= ready_at) if self.tx_paced else int(self.rng.random() < self.tx_ready_p)
            dut.tx_ready.value = ready
            await ReadOnly()
            valid = int(dut.tx_valid.value)
            if offered is not None:
                assert valid and int(dut.tx_data.value) == offered, \
                    f"cycle {cycle}: tx byte 0x{offered:02X} withdrawn or changed before it was taken"
            if not valid:
                continue
            data = int(dut.tx_data.value)
            if not ready:
                offered = data
                continue
            offered = None
            ready_at = cycle + CHAR
            if self.parser.pending == 0:
                self.frame_start = cycle
            for f in self.parser.feed(bytes([data])):
                self.frames.append((f, self.frame_start))

    async def reply(self, timeout=None):
        """The next frame from the board, as (Frame, cycle of its first byte)."""
        limit = now() + (timeout or 20 * CHAR + 100 * (PIXELS + 2 * (T_MAX + CLASSES) * BB + 50) + 2 * IDLE)
        while len(self.frames) <= self.taken:
            assert now() < limit, f"no reply by cycle {limit}"
            await ClockCycles(self.dut.clk, 8)
        self.taken += 1
        return self.frames[self.taken - 1]

    async def quiet(self, cycles):
        """No frame and no stray byte for `cycles` cycles."""
        await ClockCycles(self.dut.clk, cycles)
        assert len(self.frames) == self.taken, f"unexpected frame(s): {self.frames[self.taken:]}"
        assert self.parser.pending == 0 and self.parser.skipped == 0, \
            f"stray bytes: {self.parser.pending} pending, {self.parser.skipped} skipped"

    async def request(self, frame: bytes, want_type: int):
        await self.send(frame)
        f, _ = await self.reply()
        if f.type == proto.ERROR:
            raise AssertionError(proto.error_message(f.payload))
        assert f.type == want_type, f"reply type 0x{f.type:02X}, expected 0x{want_type:02X}"
        return f.payload

    async def info(self) -> proto.BoardInfo:
        return proto.BoardInfo.decode(await self.request(proto.encode(proto.INFO), proto.INFO_REPLY))

    async def config(self, timesteps: int, margin=None, min_steps=None) -> int:
        """CONFIG (the exit rule unchanged unless given); returns the timesteps in force, checks the exit rule's
        saturation (margin at 2**EXIT_W - 1, min steps 0 -> 1 and at 2**STEP_W - 1)."""
        margin = self.exit_rule[0] if margin is None else margin
        min_steps = self.exit_rule[1] if min_steps is None else min_steps
        want = proto.BoardConfig(timesteps, margin, min_steps)
        payload = await self.request(proto.encode(proto.CONFIG, want.encode()), proto.CONFIG_REPLY)
        got = proto.BoardConfig.decode(payload)
        self.exit_rule = (min(margin, EXIT_MAX), min(max(min_steps, 1), MIN_STEPS_MAX))
        assert (got.exit_margin, got.exit_min_steps) == self.exit_rule, (got, self.exit_rule)
        assert (int(self.dut.cfg_exit_margin.value), int(self.dut.cfg_exit_min_steps.value)) == self.exit_rule
        return got.timesteps

    async def image(self, pixels: bytes, timesteps: int):
        """IMAGE -> RESULT, checked against the fake accelerator's beats and its cycle count."""
        self.pending.append((pixels, timesteps))
        payload = await self.request(proto.encode(proto.IMAGE, pixels), proto.RESULT)
        assert not self.pending, "RESULT came before the accelerator got the image"
        classes, pots, cycles = self.runs.popleft()
        r = proto.Result.decode(payload, CLASSES, BB)
        assert r.steps == timesteps, f"steps {r.steps}, expected {timesteps}"
        assert list(r.classes) == classes, f"classes {list(r.classes)}, expected {classes}"
        assert list(r.potentials) == pots, f"potentials {list(r.potentials)}, expected {pots}"
        assert r.cycles == cycles, f"cycles {r.cycles}, the bench counted {cycles}"
        assert int(self.dut.last_class.value) == classes[-1] & 0xFF
        return r

    async def expect_error(self, code: int, ftype: int):
        """The next frame is ERROR {code, ftype}, sent only once the line has been idle for IDLE cycles."""
        f, start = await self.reply()
        assert f.type == proto.ERROR, f"reply type 0x{f.type:02X}, expected ERROR"
        assert tuple(f.payload) == (code, ftype), \
            f"ERROR {tuple(f.payload)} ({proto.error_message(f.payload)}), expected {(code, ftype)}"
        assert start >= self.line_free + IDLE, \
            f"ERROR at cycle {start}, before the line was idle for {IDLE} cycles (free from {self.line_free})"
        assert start <= self.line_free + IDLE + 60, f"ERROR at cycle {start}, long after the idle time"
        assert int(self.dut.frame_error.value) == 1

    def random_image(self) -> bytes:
        data = bytes(self.rng.randrange(256) for _ in range(PIXELS))
        return data

    # ------------------------------------------------------------------ accelerator
    async def accelerator(self):
        dut = self.dut
        while True:
            if not int(dut.m_axis_tvalid.value):
                await RisingEdge(dut.m_axis_tvalid)
            assert self.pending, f"cycle {now()}: the link feeds pixels for no accepted IMAGE"
            want, ts = self.pending.popleft()
            got, first = [], None
            while True:
                await FallingEdge(dut.clk)
                ready = int(self.rng.random() < self.pix_ready_p)
                dut.m_axis_tready.value = ready
                await ReadOnly()
                if ready and int(dut.m_axis_tvalid.value):
                    if first is None:
                        first = now()
                    assert int(dut.cfg_timesteps.value) == ts, \
                        f"cfg_timesteps {int(dut.cfg_timesteps.value)}, expected {ts}"
                    rule = (int(dut.cfg_exit_margin.value), int(dut.cfg_exit_min_steps.value))
                    assert rule == self.exit_rule, f"cfg_exit_* {rule}, expected {self.exit_rule}"
                    got.append(int(dut.m_axis_tdata.value))
                    last = int(dut.m_axis_tlast.value)
                    assert last == (len(got) == PIXELS), f"tlast {last} on pixel {len(got)} of {PIXELS}"
                    if last:
                        break
            assert bytes(got) == want, "the accelerator got a different image"
            span = now() - first + 1
            if self.pix_ready_p == 1.0:
                assert span == PIXELS, f"{PIXELS} pixels took {span} cycles with tready high"
            await FallingEdge(dut.clk)
            dut.m_axis_tready.value = 0
            classes, pots = beats_for(want, ts)
            beats = [(c, 0) for c in classes] + [(p % (1 << BEAT_BITS), 1) for p in pots]
            await ClockCycles(dut.clk, self.rng.randint(*self.delay), rising=False)
            i = 0
            while i < len(beats):
                valid = int(self.rng.random() < self.beat_valid_p)
                dut.s_axis_tvalid.value = valid
                dut.s_axis_tdata.value = beats[i][0] if valid else self.rng.randrange(1 << BEAT_BITS)
                dut.s_axis_tuser.value = beats[i][1]
                dut.s_axis_tlast.value = int(i == len(beats) - 1)
                await ReadOnly()
                assert not int(dut.m_axis_tvalid.value), f"cycle {now()}: a pixel after the image's last"
                if valid:
                    assert int(dut.s_axis_tready.value), f"cycle {now()}: s_axis_tready low"
                    i += 1
                await FallingEdge(dut.clk)
            dut.s_axis_tvalid.value = 0
            dut.s_axis_tlast.value = 0
            self.runs.append((classes, pots, now() - first))   # the tlast beat's cycle was now() - 1

    # ------------------------------------------------------------------
    async def start(self):
        dut = self.dut
        cocotb.start_soon(Clock(dut.clk, PERIOD, unit="ns").start())
        for name in ("rx_valid", "rx_data", "rx_active", "tx_ready", "m_axis_tready", "s_axis_tdata",
                     "s_axis_tvalid", "s_axis_tlast", "s_axis_tuser"):
            getattr(dut, name).value = 0
        dut.rst.value = 1
        await ClockCycles(dut.clk, 3)
        await FallingEdge(dut.clk)
        dut.rst.value = 0
        cocotb.start_soon(self.tx_collector())
        cocotb.start_soon(self.accelerator())
        await ClockCycles(dut.clk, 2)
        assert not int(dut.busy.value) and not int(dut.frame_error.value)

    async def finish(self):
        await self.quiet(IDLE + 4 * CHAR)
        assert not self.pending and not self.runs
        assert not int(self.dut.busy.value)


def seed(name):
    return zlib.crc32(f"{name}{PIXELS}{BEAT_BITS}{CLASSES}{T_MAX}".encode())


@cocotb.test()
async def info_after_garbage(dut):
    """Bytes before SYNC are ignored; INFO_REPLY carries every field."""
    b = Bench(dut, seed("info"))
    await b.start()
    await b.send(bytes(b.rng.choice([x for x in range(256) if x != proto.SYNC]) for _ in range(6)))
    info = await b.info()
    assert info == proto.BoardInfo(version=2, beat_bytes=BB, pixels_per_image=PIXELS, classes=CLASSES, t_max=T_MAX,
                                   timesteps=DEFAULT_TS, design_id=DESIGN_ID, clock_hz=CLOCK_HZ,
                                   exit_margin=DEFAULT_EXIT[0], exit_min_steps=DEFAULT_EXIT[1]), info
    assert int(dut.cfg_timesteps.value) == DEFAULT_TS
    assert (int(dut.cfg_exit_margin.value), int(dut.cfg_exit_min_steps.value)) == DEFAULT_EXIT
    await b.finish()


@cocotb.test()
async def config(dut):
    """CONFIG 0 -> 1, above T_MAX -> T_MAX, a value in between; each in force for the next IMAGE and INFO."""
    b = Bench(dut, seed("config"))
    await b.start()
    assert await b.config(0) == 1
    await b.image(b.random_image(), 1)
    assert await b.config(T_MAX + 1) == T_MAX
    assert (await b.info()).timesteps == T_MAX
    assert await b.config(0xFFFF) == T_MAX
    await b.image(b.random_image(), T_MAX)
    mid = max(1, T_MAX // 2)
    assert await b.config(mid) == mid
    assert (await b.info()).timesteps == mid
    assert int(dut.cfg_timesteps.value) == mid
    # the exit rule: in range, saturated, min steps 0 -> 1; each in force for the next IMAGE and INFO
    for margin, min_steps in ((3, 2), (EXIT_MAX, MIN_STEPS_MAX), (0xFFFFFFFF, 0xFFFF),
                              (min(EXIT_MAX + 1, 0xFFFFFFFF), 0),
                              (b.rng.randrange(1, EXIT_MAX + 1), b.rng.randrange(1, MIN_STEPS_MAX + 1)), (0, 1)):
        assert await b.config(mid, margin, min_steps) == mid
        info = await b.info()
        assert (info.exit_margin, info.exit_min_steps) == b.exit_rule, (info, b.exit_rule)
        await b.image(b.random_image(), mid)
    await b.finish()


@cocotb.test()
async def images(dut):
    """Several IMAGEs back to back, steps from CONFIGs, pixel stalls and a stall-free one (one pixel per cycle)."""
    b = Bench(dut, seed("images"))
    await b.start()
    n = 2 if PIXELS > 100 else 5
    ts = DEFAULT_TS
    for i in range(n):
        b.pix_ready_p = 1.0 if i == 1 else b.rng.choice([0.3, 0.7, 0.95])
        b.beat_valid_p = b.rng.choice([0.3, 1.0])
        b.tx_ready_p = b.rng.choice([0.2, 0.6, 1.0])
        if i in (2, 4):
            ts = await b.config(b.rng.randint(1, T_MAX))
        await b.image(b.random_image(), ts)
    # an image of zeros and one of 0xA5 (SYNC inside the payload)
    await b.image(bytes(PIXELS), ts)
    await b.image(bytes([proto.SYNC]) * PIXELS, ts)
    assert not int(dut.frame_error.value)
    await b.finish()


@cocotb.test()
async def bad_crc(dut):
    """A wrong CRC: ERROR(ERR_CRC, type) after the idle time, nothing executed; the next frames work."""
    b = Bench(dut, seed("crc"))
    await b.start()
    frame = bytearray(proto.encode(proto.IMAGE, b.random_image()))
    frame[-1] ^= 0x01
    await b.send(bytes(frame))
    await b.expect_error(proto.ERR_CRC, proto.IMAGE)
    assert not b.runs and int(dut.m_axis_tvalid.value) == 0
    await b.image(b.random_image(), DEFAULT_TS)
    assert not int(dut.frame_error.value)
    # a CONFIG with a bad CRC changes nothing
    frame = bytearray(proto.encode(proto.CONFIG, proto.BoardConfig(1, 7, 2).encode()))
    frame[-1] ^= 0x80
    await b.send(bytes(frame))
    await b.expect_error(proto.ERR_CRC, proto.CONFIG)
    info = await b.info()
    assert (info.timesteps, info.exit_margin, info.exit_min_steps) == (DEFAULT_TS, *DEFAULT_EXIT)
    assert (int(dut.cfg_exit_margin.value), int(dut.cfg_exit_min_steps.value)) == DEFAULT_EXIT
    assert not int(dut.frame_error.value)
    await b.finish()


@cocotb.test()
async def unknown_type(dut):
    """Unknown TYPEs (including a board-to-host one) give ERR_TYPE with that type, the rest is drained."""
    b = Bench(dut, seed("type"))
    await b.start()
    await b.send(proto.encode(0x07, bytes([proto.SYNC, 0x01, 0x00, 0x00, proto.SYNC])))
    await b.expect_error(proto.ERR_TYPE, 0x07)
    await b.send(proto.encode(proto.RESULT, b"\x00" * 8))
    await b.expect_error(proto.ERR_TYPE, proto.RESULT)
    assert (await b.info()).version == 2
    await b.finish()


@cocotb.test()
async def wrong_length(dut):
    """LENGTH not that of the TYPE: ERR_LENGTH; the payload that follows (SYNC bytes and all) is drained."""
    b = Bench(dut, seed("length"))
    await b.start()
    await b.send(proto.encode(proto.CONFIG, b"\x05\x00\x00"))
    await b.expect_error(proto.ERR_LENGTH, proto.CONFIG)
    await b.send(proto.encode(proto.CONFIG, b"\x05\x00"))   # protocol version 1's CONFIG
    await b.expect_error(proto.ERR_LENGTH, proto.CONFIG)
    await b.send(proto.encode(proto.INFO, b"\x00"))
    await b.expect_error(proto.ERR_LENGTH, proto.INFO)
    # an IMAGE one pixel too long, made of complete INFO frames: not one of them may be answered
    junk = proto.encode(proto.INFO) * (PIXELS // 5 + 1)
    await b.send(proto.encode(proto.IMAGE, junk[:PIXELS + 1]))
    await b.expect_error(proto.ERR_LENGTH, proto.IMAGE)
    await b.send(proto.encode(proto.IMAGE, junk[:PIXELS - 1]))
    await b.expect_error(proto.ERR_LENGTH, proto.IMAGE)
    assert await b.config(2) == min(2, T_MAX)
    await b.finish()


@cocotb.test()
async def timeout(dut):
    """A frame cut short: ERR_TIMEOUT once the line is idle (type 0 if the TYPE never came); a slow host whose
    gaps stay under the idle time is fine."""
    b = Bench(dut, seed("timeout"))
    await b.start()
    frame = proto.encode(proto.IMAGE, b.random_image())
    await b.send(frame[:len(frame) // 2])
    await b.expect_error(proto.ERR_TIMEOUT, proto.IMAGE)
    await b.send(bytes([proto.SYNC]))
    await b.expect_error(proto.ERR_TIMEOUT, 0)
    one = proto.BoardConfig(1, *DEFAULT_EXIT).encode()
    await b.send(proto.encode(proto.CONFIG, one)[:-1])   # all but the CRC
    await b.expect_error(proto.ERR_TIMEOUT, proto.CONFIG)
    assert (await b.info()).timesteps == DEFAULT_TS
    assert not int(dut.frame_error.value)
    # a slow host: gaps just under the idle time
    await b.send(proto.encode(proto.CONFIG, one), gap=IDLE - 4)
    f, _ = await b.reply()
    assert f.type == proto.CONFIG_REPLY and f.payload == one, f
    await b.image(b.random_image(), 1)
    await b.finish()


@cocotb.test()
async def busy_discards(dut):
    """Bytes that arrive while an IMAGE executes or its RESULT is sent are discarded."""
    b = Bench(dut, seed("busy"))
    await b.start()
    b.tx_paced = True
    b.delay = (8 * CHAR, 8 * CHAR)   # the accelerator takes eight character times
    pixels = b.random_image()
    b.pending.append((pixels, DEFAULT_TS))
    await b.send(proto.encode(proto.IMAGE, pixels))
    mark = len(b.rx_log)
    await ClockCycles(dut.clk, 2 * CHAR)
    await b.send(proto.encode(proto.INFO))                 # while the accelerator computes
    while not b.parser.pending:                           # the RESULT has started
        await ClockCycles(dut.clk, 4)
    await b.send(proto.encode(proto.CONFIG, proto.BoardConfig(1, 1, 1).encode()))  # while the RESULT goes out
    assert all(busy for _, _, busy in b.rx_log[mark:]), "a byte arrived while the link was not busy"
    f, _ = await b.reply()
    assert f.type == proto.RESULT, f
    classes, pots, cycles = b.runs.popleft()
    r = proto.Result.decode(f.payload, CLASSES, BB)
    assert list(r.classes) == classes and list(r.potentials) == pots and r.cycles == cycles
    await b.quiet(IDLE + 2 * CHAR)
    b.tx_paced = False
    info = await b.info()                                  # the CONFIG was not taken
    assert (info.timesteps, info.exit_margin, info.exit_min_steps) == (DEFAULT_TS, *DEFAULT_EXIT)
    await b.finish()
