"""A software board: the board side of snnhw/board/protocol.py, computing results with the golden model.

``FakeBoard`` turns the bytes a host sends into the bytes a board would
answer (``receive``), as ``snn_host_link`` specifies: INFO, CONFIG (time steps
0 -> 1 and clamped to T_MAX, the early-exit rule), IMAGE (RESULT: the class after every step, the final
potentials, a cycle count); a frame of unknown type, wrong length or wrong
CRC gets one ERROR frame and the rest of what was received is dropped.
A frame cut short is dropped with an ERROR(idle timeout) when the line goes
idle (``idle()``: MemoryTransport calls it when the host waits for a reply
and none is pending, PtyBoard after 50 ms without a byte). Faults can be
injected per image (a wrong potential or class, an ERROR
reply, a bad CRC, silence) or per frame type (silence).

Two ways to reach it:

- :class:`MemoryTransport`: in memory, for the driver's unit tests;
- :class:`PtyBoard`: on a pseudo-terminal (``with PtyBoard(board) as path``),
  served from a thread; the host opens ``path`` with ``SerialTransport``, the
  same code path as a USB serial port.
"""
from __future__ import annotations

import dataclasses
import os
import select
import struct
import threading
import time
import tty

import numpy as np

from snnhw.board import protocol as P
from snnhw.board.transport import Transport
from snnhw.reference.golden import run_golden


class FakeBoard:
    def __init__(self, qnet, *, design_id=0x12345678, clock_hz=50_000_000, beat_bytes=2, t_max=None,
                 timesteps=16, version=P.VERSION, pixels_per_image=None, classes=None,
                 corrupt_potential=None, corrupt_class=None, error_on_image=None, bad_crc_on_image=None,
                 silent_on_image=None, silent_on=(), cycles=None, exit_rule=None, exit_fixed=False,
                 exit_max=(1 << 17) - 1):
        """``pixels_per_image``/``classes``: what INFO reports, if not the network's (a foreign design).
        Faults: ``corrupt_potential`` {image: (class, delta)}, ``corrupt_class`` {image: (step, new class)},
        ``error_on_image`` {image: error code}, ``bad_crc_on_image`` / ``silent_on_image`` (sets of image
        indexes), ``silent_on`` (frame types never answered). ``cycles(image index, T)``: the cycle count.
        ``exit_rule``: the early exit after reset (an ExitRule, the build's): results end after the exit step;
        CONFIG sets it (margin saturated at ``exit_max``), unless ``exit_fixed`` (a board that keeps its rule
        and reports it in CONFIG_REPLY)."""
        self.qnet = qnet
        self.input_shape = tuple(qnet.input_shape)
        self.pixels = int(np.prod(self.input_shape))
        self.info = P.BoardInfo(version=version, beat_bytes=beat_bytes,
                                pixels_per_image=self.pixels if pixels_per_image is None else pixels_per_image,
                                classes=qnet.num_classes if classes is None else classes,
                                t_max=qnet.max_timesteps if t_max is None else t_max, timesteps=timesteps,
                                design_id=design_id, clock_hz=clock_hz)
        self.timesteps = timesteps
        self.exit_fixed = exit_fixed
        self.exit_max = exit_max
        self.corrupt_potential = dict(corrupt_potential or {})
        self.corrupt_class = dict(corrupt_class or {})
        self.error_on_image = dict(error_on_image or {})
        self.bad_crc_on_image = set(bad_crc_on_image or ())
        self.silent_on_image = set(silent_on_image or ())
        self.silent_on = set(silent_on)
        self.cycles = cycles or (lambda i, t: 1000 + 37 * t + 3 * i)
        from snnhw.reference.early_exit import ExitRule

        self.exit_rule = exit_rule if exit_rule is not None else ExitRule()
        self.images_seen = 0
        self.frames = []  # (type, payload) of every frame received
        self.errors_sent = []  # (code, type) of every ERROR frame sent
        self._buf = bytearray()

    @classmethod
    def from_build(cls, build_dir, **kw):
        """The board a build directory describes: its network, design id, clock and beat width."""
        from snnhw.board.build_info import load_board_build
        from snnhw.codegen.manifest import load_manifest
        from snnhw.frontend.qformat import load_qnet

        b = load_board_build(build_dir)
        m = load_manifest(build_dir)
        from snnhw.reference.early_exit import ExitRule

        kw = dict(dict(design_id=b.design_id, clock_hz=b.clock_hz, beat_bytes=m.interface.m_axis.tdata_bits // 8,
                       timesteps=b.default_timesteps, exit_rule=ExitRule(m.exit.margin, m.exit.min_steps)), **kw)
        return cls(load_qnet(os.path.join(build_dir, "model.snn.npz")), **kw)

    # -- bytes in, bytes out --------------------------------------------------
    def receive(self, data: bytes) -> bytes:
        """Bytes from the host -> the board's reply bytes (possibly none)."""
        self._buf += data
        out = bytearray()
        while True:
            start = self._buf.find(bytes([P.SYNC]))
            if start < 0:
                self._buf.clear()
                break
            del self._buf[:start]
            if len(self._buf) < P.HEADER_BYTES:
                break
            ftype = self._buf[1]
            length = struct.unpack_from("<H", self._buf, 2)[0]
            want = {P.INFO: 0, P.CONFIG: P.CONFIG_BYTES, P.IMAGE: self.pixels}.get(ftype)
            if want is None or length != want:
                out += self._error(P.ERR_TYPE if want is None else P.ERR_LENGTH, ftype)
                break
            total = P.HEADER_BYTES + length + 1
            if len(self._buf) < total:
                break
            frame = bytes(self._buf[:total])
            del self._buf[:total]
            if P.crc8(frame[1:-1]) != frame[-1]:
                out += self._error(P.ERR_CRC, ftype)
                break
            payload = frame[P.HEADER_BYTES:-1]
            self.frames.append((ftype, payload))
            out += self.handle(ftype, payload)
        return bytes(out)

    def idle(self) -> bytes:
        """The line has been idle for the idle timeout: a frame cut short is dropped with an ERROR."""
        if not self._buf:
            return b""
        ftype = self._buf[1] if len(self._buf) > 1 else 0
        return self._error(P.ERR_TIMEOUT, ftype)

    def _error(self, code, ftype) -> bytes:
        self._buf.clear()  # the board drops what follows until the line is idle
        self.errors_sent.append((code, ftype))
        return P.encode(P.ERROR, bytes([code, ftype]))

    def handle(self, ftype: int, payload: bytes) -> bytes:
        if ftype in self.silent_on:
            return b""
        if ftype == P.INFO:
            return P.encode(P.INFO_REPLY, dataclasses.replace(
                self.info, timesteps=self.timesteps, exit_margin=self.exit_rule.margin,
                exit_min_steps=self.exit_rule.min_steps).encode())
        if ftype == P.CONFIG:
            from snnhw.reference.early_exit import ExitRule

            cfg = P.BoardConfig.decode(payload)
            self.timesteps = min(max(cfg.timesteps, 1), self.info.t_max)
            if not self.exit_fixed:
                self.exit_rule = ExitRule(min(cfg.exit_margin, self.exit_max), max(cfg.exit_min_steps, 1))
            return P.encode(P.CONFIG_REPLY, P.BoardConfig(self.timesteps, self.exit_rule.margin,
                                                          self.exit_rule.min_steps).encode())
        i = self.images_seen
        self.images_seen += 1
        if i in self.silent_on_image:
            return b""
        if i in self.error_on_image:
            return P.encode(P.ERROR, bytes([self.error_on_image[i], P.IMAGE]))
        classes, potentials = self.compute(np.frombuffer(payload, np.uint8), self.timesteps)
        if i in self.corrupt_potential:
            k, delta = self.corrupt_potential[i]
            potentials[k] += delta
        if i in self.corrupt_class:
            s, c = self.corrupt_class[i]
            classes[s] = c
        body = P.Result.encode(classes, potentials, self.cycles(i, self.timesteps), self.info.beat_bytes)
        frame = bytearray(P.encode(P.RESULT, body))
        if i in self.bad_crc_on_image:
            frame[-1] ^= 0x5A
        return bytes(frame)

    def compute(self, pixels: np.ndarray, timesteps: int):
        """(classes after every step (T,), final potentials (K,)) of one image, from the golden model."""
        pots = run_golden(self.qnet, pixels.reshape((1,) + self.input_shape), timesteps).potentials[:, 0]
        if self.exit_rule.enabled:   # the classes up to the exit step only
            from snnhw.reference.early_exit import exit_steps

            pots = pots[:int(exit_steps(pots[:, None, :], self.exit_rule)[0]) + 1]
        return pots.argmax(axis=-1).astype(np.int64), pots[-1].astype(np.int64).copy()


class MemoryTransport(Transport):
    """A Transport straight into a FakeBoard; replies come back ``chunk`` bytes per read (parser coverage)."""

    def __init__(self, board: FakeBoard, chunk: int = 4096):
        self.board = board
        self.chunk = chunk
        self.name = "fake board"
        self._rx = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self._rx += self.board.receive(data)

    def read(self, max_bytes: int, timeout_s: float) -> bytes:
        if not self._rx and timeout_s > 0:
            self._rx += self.board.idle()
        if not self._rx:
            time.sleep(timeout_s)  # nothing will come: the board answers writes only
            return b""
        n = min(max_bytes, self.chunk, len(self._rx))
        out = bytes(self._rx[:n])
        del self._rx[:n]
        return out

    def close(self) -> None:
        self.closed = True


class PtyBoard:
    """Serve a FakeBoard on a pseudo-terminal from a thread; ``with PtyBoard(board) as path:`` gives the slave's
    path (e.g. /dev/pts/7) to open with SerialTransport. An exception in the board thread is raised on exit."""

    def __init__(self, board: FakeBoard):
        self.board = board
        self.path = None
        self.error = None
        self.bytes_in = 0
        self.bytes_out = 0

    def __enter__(self) -> str:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no line editing, 8 bits (pyserial sets the same when it opens it)
        self.path = os.ttyname(self.slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"fake board on {self.path}", daemon=True)
        self._thread.start()
        return self.path

    def _serve(self):
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self.master], [], [], 0.05)
                if ready:
                    data = os.read(self.master, 4096)
                    self.bytes_in += len(data)
                    reply = memoryview(self.board.receive(data))
                else:
                    reply = memoryview(self.board.idle())
                while reply:
                    n = os.write(self.master, reply)
                    self.bytes_out += n
                    reply = reply[n:]
        except Exception as exc:  # surfaced by __exit__
            self.error = exc

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self.slave)
        if self.error is not None and exc[0] is None:
            raise RuntimeError(f"the fake board on {self.path} failed: {self.error!r}") from self.error
        return False
