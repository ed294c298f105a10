"""Byte transports between the host and a board: the interface, and a serial port through pyserial.

:class:`SerialTransport` opens anything :func:`serial.serial_for_url` does: a
USB serial port (``/dev/ttyUSB0``, ``/dev/ttyACM0``, ``COM3``), a
pseudo-terminal such as the board simulation's (``/dev/pts/7``), a TCP socket
(``socket://host:port``) or pyserial's loopback (``loop://``).
"""
from __future__ import annotations

import os
import re
import time
from abc import ABC, abstractmethod

from snnhw.errors import BoardError

# longest single blocking read; a read() with a longer timeout loops (so the port's timeout is set once)
POLL_S = 0.05


class Transport(ABC):
    """A byte pipe to a board. ``name`` says where it goes (for messages)."""

    name: str = "board"

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Send ``data`` (all of it)."""

    @abstractmethod
    def read(self, max_bytes: int, timeout_s: float) -> bytes:
        """Up to ``max_bytes`` bytes: returns as soon as some have arrived, or ``b""`` after ``timeout_s``
        seconds without any."""

    def discard_input(self) -> int:
        """Drop bytes already received (stale replies); returns how many."""
        dropped = 0
        while True:
            data = self.read(4096, 0.0)
            if not data:
                return dropped
            dropped += len(data)

    @abstractmethod
    def close(self) -> None:
        """Release the port (idempotent)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class SerialTransport(Transport):
    """A serial port (or any pyserial URL), 8N1, no flow control.

    ``rts``/``dtr``: the modem-control lines to set once the port is open
    (None: pyserial's default, both asserted).
    """

    def __init__(self, port: str, baud: int = 115200, *, rts: bool | None = None, dtr: bool | None = None):
        import serial

        self.name = str(port)
        self.baud = int(baud)
        try:
            self._ser = serial.serial_for_url(self.name, baudrate=self.baud, timeout=POLL_S, write_timeout=None,
                                              do_not_open=True)
            if rts is not None:
                self._ser.rts = rts
            if dtr is not None:
                self._ser.dtr = dtr
            self._ser.open()
        except (serial.SerialException, ValueError, OSError) as exc:
            raise BoardError(f"cannot open serial port {self.name}: {_reason(exc)}{_hint(exc, self.name)}") from None
        self._serial_exception = serial.SerialException

    def write(self, data: bytes) -> None:
        try:
            self._ser.write(data)
        except (self._serial_exception, OSError) as exc:
            raise BoardError(f"serial port {self.name}: write failed: {_reason(exc)}") from None

    def read(self, max_bytes: int, timeout_s: float) -> bytes:
        deadline = time.monotonic() + max(0.0, timeout_s)
        try:
            while True:
                if timeout_s <= 0 and not self._ser.in_waiting:
                    return b""
                first = self._ser.read(1)
                if first:
                    break
                if time.monotonic() >= deadline:
                    return b""
            out = bytearray(first)
            while len(out) < max_bytes:
                n = self._ser.in_waiting
                if not n:
                    break
                out += self._ser.read(min(n, max_bytes - len(out)))
            return bytes(out)
        except (self._serial_exception, OSError) as exc:
            raise BoardError(f"serial port {self.name}: read failed: {_reason(exc)}") from None

    def discard_input(self) -> int:
        try:
            n = self._ser.in_waiting
            self._ser.reset_input_buffer()
            return n
        except (self._serial_exception, OSError) as exc:
            raise BoardError(f"serial port {self.name}: {_reason(exc)}") from None

    def close(self) -> None:
        ser = getattr(self, "_ser", None)
        if ser is not None and ser.is_open:
            try:
                ser.close()
            except Exception:  # closing a port that went away: nothing left to release
                pass

    def __repr__(self):
        return f"SerialTransport({self.name!r}, {self.baud})"


def _errno(exc):
    """The OS error number behind a (pyserial) exception, also when only its message carries it."""
    if isinstance(getattr(exc, "errno", None), int):
        return exc.errno
    found = re.findall(r"\[Errno (\d+)\]|\((\d+), '", str(exc))
    found = [a or b for a, b in found]
    return int(found[-1]) if found else None


def _reason(exc) -> str:
    """The exception in a few words: the OS's error text when there is one (pyserial repeats it nested)."""
    errno = _errno(exc)
    if errno is not None:
        return os.strerror(errno)
    text = str(exc) or type(exc).__name__
    text = re.sub(r"^(could not open port|could not configure port)[^:]*:\s*", "", text.splitlines()[0], flags=re.I)
    return text


def _hint(exc, port: str) -> str:
    errno = _errno(exc)
    if errno == 2 and "://" not in port:  # ENOENT
        return " (is the board plugged in? ls /dev/ttyUSB* /dev/ttyACM* lists the USB serial ports)"
    if errno == 13:  # EACCES
        return " (no permission: add yourself to the group that owns the port, e.g. dialout, and log in again)"
    if errno == 25:  # ENOTTY
        return " (not a serial port)"
    if errno == 16:  # EBUSY
        return " (another program has the port open)"
    return ""
