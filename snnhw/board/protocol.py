"""The host link's framed protocol (version 2): the contract between `snn_host_link` and `snnhw run`.

Every frame, in both directions::

    SYNC (0xA5) | TYPE (1 byte) | LENGTH (2 bytes, little-endian) | PAYLOAD (LENGTH bytes) | CRC (1 byte)

CRC is CRC-8 with polynomial 0x07, initial value 0, no reflection, no final
XOR (CRC-8/SMBUS), over TYPE, the two LENGTH bytes and the payload (not SYNC).
All multi-byte fields are little-endian.

The exit rule is snnhw.reference.early_exit's: an image ends after the first
step ``t`` with ``t + 1 >= exit_min_steps`` at which its top output potential
leads the second by at least ``exit_margin``; RESULT then carries the classes
up to that step and the potentials after it. The board saturates a margin
above what its accelerator's ``cfg_exit_margin`` port carries (such a margin
is never met, as any above the potentials' range) and an ``exit_min_steps``
above its ``cfg_exit_min_steps`` port's range; CONFIG_REPLY says what is in
force. After reset the board runs the build's rule (``manifest.json`` exit).

Host to board:

| type | name | payload |
| --- | --- | --- |
| 0x01 | INFO | none |
| 0x02 | CONFIG | `timesteps` u16 (0 counts as 1, values above T_MAX are clamped), `exit_margin` u32 (0: no early exit), `exit_min_steps` u16 (0 counts as 1) (8 bytes) |
| 0x03 | IMAGE | the image's pixels, u8, C-H-W order, exactly `pixels_per_image` bytes |

Board to host:

| type | name | payload |
| --- | --- | --- |
| 0x81 | INFO_REPLY | `version` u8, `beat_bytes` u8, `pixels_per_image` u16, `classes` u16, `t_max` u16, `timesteps` u16 (the current setting), `design_id` u32, `clock_hz` u32, `exit_margin` u32, `exit_min_steps` u16 (the current exit rule) (24 bytes) |
| 0x82 | CONFIG_REPLY | `timesteps` u16, `exit_margin` u32, `exit_min_steps` u16: the settings now in force (8 bytes) |
| 0x83 | RESULT | `steps` u16 (class beats that follow), `cycles` u32, then every beat of the accelerator's result stream as `beat_bytes` bytes: `steps` class beats, then `classes` potentials (two's complement, sign-extended) |
| 0xEE | ERROR | `code` u8 (below), `type` u8: the TYPE of the frame in error (0 when none was read) |

`cycles` counts clock cycles from the one in which the accelerator accepted the
image's first pixel to the one in which the link accepted the result's last
beat, both included (first pixel in cycle a, last beat in cycle b: b - a + 1);
the link feeds a buffered image at one pixel per cycle and never stalls the
result stream, so `cycles` is the accelerator's own latency for the image. It
saturates at 2**32 - 1. The board keeps at most `t_max + classes` beats of one
image (a correct accelerator sends `timesteps + classes`); `steps` counts the
class beats RESULT carries.

Errors. A frame whose CRC is wrong, whose TYPE is unknown, whose LENGTH does not
match its TYPE, or that stops for longer than the idle timeout before its last
byte, is dropped: the board discards received bytes until the line has been
idle for the idle timeout, sends one ERROR frame and then waits for the next
SYNC. No reset is needed. The line is idle while no character is on it; the
idle timeout is the board's (`snn_host_link`'s IDLE_CYCLES clock cycles), and a
host keeps the gaps between the characters of a frame shorter. The board
refuses an unknown TYPE as soon as it is read and a wrong LENGTH as soon as
both LENGTH bytes are in (the rest of the frame is then drained like any
other byte); the CRC is checked last, so a frame with several faults reports
the first. ERROR's `type` is 0 only for a frame that stopped right after SYNC.
Bytes that arrive while the board computes or replies are discarded, and the
board hunts for SYNC again after its reply's last byte: a host sends one frame
and waits for its reply.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

VERSION = 2
SYNC = 0xA5
HEADER_BYTES = 4  # SYNC, TYPE, LENGTH
OVERHEAD_BYTES = HEADER_BYTES + 1  # + CRC
MAX_PAYLOAD = 0xFFFF

# host to board
INFO = 0x01
CONFIG = 0x02
IMAGE = 0x03
# board to host
INFO_REPLY = 0x81
CONFIG_REPLY = 0x82
RESULT = 0x83
ERROR = 0xEE

INFO_REPLY_BYTES = 24
CONFIG_BYTES = 8
RESULT_HEADER_BYTES = 6

# ERROR codes
ERR_CRC = 1
ERR_TYPE = 2
ERR_LENGTH = 3
ERR_TIMEOUT = 4
ERROR_NAMES = {ERR_CRC: "bad CRC", ERR_TYPE: "unknown frame type", ERR_LENGTH: "wrong payload length",
               ERR_TIMEOUT: "frame cut short (idle timeout)"}
TYPE_NAMES = {INFO: "INFO", CONFIG: "CONFIG", IMAGE: "IMAGE", INFO_REPLY: "INFO_REPLY",
              CONFIG_REPLY: "CONFIG_REPLY", RESULT: "RESULT", ERROR: "ERROR"}


def _crc8_table() -> list:
    table = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
        table.append(c)
    return table


_CRC8 = _crc8_table()


def crc8(data: bytes, crc: int = 0) -> int:
    """CRC-8/SMBUS (poly 0x07, init 0, no reflection, no final XOR)."""
    for b in data:
        crc = _CRC8[crc ^ b]
    return crc


def encode(frame_type: int, payload: bytes = b"") -> bytes:
    """One frame: SYNC, TYPE, LENGTH, payload, CRC."""
    if not 0 <= frame_type <= 0xFF:
        raise ValueError(f"frame type {frame_type} is not a byte")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes([frame_type]) + struct.pack("<H", len(payload)) + bytes(payload)
    return bytes([SYNC]) + body + bytes([crc8(body)])


class ProtocolError(Exception):
    """A frame that cannot be parsed, or an ERROR reply from the board."""


@dataclass(frozen=True)
class Frame:
    type: int
    payload: bytes


class FrameParser:
    """Incremental parser of a byte stream into frames (what the host runs on the board's replies).

    ``feed(data)`` returns the complete frames found so far; bytes before a
    SYNC are skipped (counted in ``skipped``); a frame with a wrong CRC raises
    :class:`ProtocolError`.
    """

    def __init__(self):
        self._buf = bytearray()
        self.skipped = 0

    def feed(self, data: bytes) -> list:
        self._buf += data
        frames = []
        while True:
            start = self._buf.find(bytes([SYNC]))
            if start < 0:
                self.skipped += len(self._buf)
                self._buf.clear()
                return frames
            if start:
                self.skipped += start
                del self._buf[:start]
            if len(self._buf) < HEADER_BYTES:
                return frames
            length = struct.unpack_from("<H", self._buf, 2)[0]
            total = HEADER_BYTES + length + 1
            if len(self._buf) < total:
                return frames
            body = bytes(self._buf[1:HEADER_BYTES + length])
            crc = self._buf[total - 1]
            del self._buf[:total]
            if crc8(body) != crc:
                raise ProtocolError(f"reply frame (type 0x{body[0]:02X}, {length} bytes) has CRC 0x{crc:02X}, "
                                    f"expected 0x{crc8(body):02X}")
            frames.append(Frame(body[0], body[3:]))

    @property
    def pending(self) -> int:
        return len(self._buf)


@dataclass(frozen=True)
class BoardInfo:
    version: int
    beat_bytes: int
    pixels_per_image: int
    classes: int
    t_max: int
    timesteps: int
    design_id: int
    clock_hz: int
    exit_margin: int = 0  # the exit rule in force (0: no early exit)
    exit_min_steps: int = 1

    _FORMAT = "<BBHHHHIIIH"

    def encode(self) -> bytes:
        return struct.pack(self._FORMAT, self.version, self.beat_bytes, self.pixels_per_image, self.classes,
                           self.t_max, self.timesteps, self.design_id, self.clock_hz, self.exit_margin,
                           self.exit_min_steps)

    @classmethod
    def decode(cls, payload: bytes) -> "BoardInfo":
        if len(payload) != INFO_REPLY_BYTES:
            # a board of another protocol version has another INFO_REPLY: its first byte still says which
            if payload and payload[0] != VERSION:
                raise ProtocolError(f"the board speaks host-link protocol version {payload[0]}, this snnhw speaks "
                                    f"version {VERSION}: rebuild the bitstream with this snnhw, or use the snnhw "
                                    f"that built it")
            raise ProtocolError(f"INFO_REPLY has {len(payload)} payload bytes, expected {INFO_REPLY_BYTES}")
        return cls(*struct.unpack(cls._FORMAT, payload))


@dataclass(frozen=True)
class BoardConfig:
    """What CONFIG sets and CONFIG_REPLY reports: the time steps and the early-exit rule."""
    timesteps: int
    exit_margin: int = 0  # 0: no early exit
    exit_min_steps: int = 1

    _FORMAT = "<HIH"

    def encode(self) -> bytes:
        return struct.pack(self._FORMAT, self.timesteps, self.exit_margin, self.exit_min_steps)

    @classmethod
    def decode(cls, payload: bytes) -> "BoardConfig":
        if len(payload) != CONFIG_BYTES:
            raise ProtocolError(f"CONFIG_REPLY has {len(payload)} payload bytes, expected {CONFIG_BYTES}")
        return cls(*struct.unpack(cls._FORMAT, payload))


@dataclass(frozen=True)
class Result:
    """One image's reply: the class after every step, the final potentials, the on-chip cycles."""
    classes: np.ndarray  # (steps,) int64
    potentials: np.ndarray  # (K,) int64
    cycles: int

    @property
    def steps(self) -> int:
        return int(self.classes.shape[0])

    @staticmethod
    def encode(classes, potentials, cycles: int, beat_bytes: int) -> bytes:
        out = bytearray(struct.pack("<HI", len(classes), cycles))
        mask = (1 << (8 * beat_bytes)) - 1
        for v in list(classes) + list(potentials):
            out += (int(v) & mask).to_bytes(beat_bytes, "little")
        return bytes(out)

    @classmethod
    def decode(cls, payload: bytes, classes: int, beat_bytes: int) -> "Result":
        if len(payload) < RESULT_HEADER_BYTES:
            raise ProtocolError(f"RESULT has {len(payload)} payload bytes, fewer than its {RESULT_HEADER_BYTES}-byte "
                                f"header")
        steps, cycles = struct.unpack_from("<HI", payload)
        want = RESULT_HEADER_BYTES + (steps + classes) * beat_bytes
        if len(payload) != want:
            raise ProtocolError(f"RESULT for {steps} steps and {classes} classes should have {want} payload bytes, "
                                f"got {len(payload)}")
        beats = np.frombuffer(payload[RESULT_HEADER_BYTES:], dtype=np.uint8).reshape(-1, beat_bytes)
        values = np.zeros(beats.shape[0], dtype=np.int64)
        for i in range(beat_bytes):
            values |= beats[:, i].astype(np.int64) << (8 * i)
        bits = 8 * beat_bytes
        signed = np.where(values >= (1 << (bits - 1)), values - (1 << bits), values)
        return cls(classes=values[:steps], potentials=signed[steps:], cycles=cycles)


def error_message(payload: bytes) -> str:
    """What an ERROR frame's payload says, in words."""
    if len(payload) != 2:
        return f"ERROR frame with {len(payload)} payload bytes (expected 2)"
    code, ftype = payload
    what = ERROR_NAMES.get(code, f"error code {code}")
    name = TYPE_NAMES.get(ftype, f"0x{ftype:02X}")
    return f"board rejected a frame: {what} (frame type {name})" if ftype else f"board rejected a frame: {what}"


def result_frame_bytes(steps: int, classes: int, beat_bytes: int) -> int:
    return OVERHEAD_BYTES + RESULT_HEADER_BYTES + (steps + classes) * beat_bytes
