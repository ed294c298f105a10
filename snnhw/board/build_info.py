"""A build directory's ``board/board.json``: which board the board top was built for, and how to talk to it.

The board flow writes it next to the board top (``BoardBuild(...).write(board_json_path(BUILD))``);
``snnhw run`` and ``snnhw program`` read it with :func:`load_board_build`, which
checks every field and raises one :class:`~snnhw.errors.BoardBuildError` naming
the file and the field.

Format ``snnhw-board``, version 1. The JSON keys are the dataclass field names
below; unknown keys are ignored. ``bitstream`` and ``svf`` are relative to the
build directory (the files exist only after ``snnhw synth BUILD --board NAME
--bitstream``).
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from snnhw.codegen.manifest import is_json_int, json_type_name
from snnhw.errors import BoardBuildError

BOARD_FORMAT = "snnhw-board"
BOARD_VERSION = 1
BOARD_FILE = Path("board") / "board.json"
# how to get a board.json, said when it is missing
HOW_TO_GENERATE = ("the build has no board top: generate it with --board NAME (snnhw generate MODEL --board NAME, "
                   "or snnhw synth BUILD --board NAME)")


@dataclass
class BoardBuild:
    """The contents of ``board/board.json``."""

    board: str  # board name, e.g. 'ulx3s', 'icesugar_pro'
    title: str  # human-readable board name
    device: str  # FPGA part, e.g. 'LFE5U-85F'
    clock_hz: int  # the accelerator's clock on the board
    baud: int  # UART line rate of the host link
    uart_divisor: int  # clock cycles per UART bit
    design_id: int  # u32 the board reports in INFO_REPLY
    idle_cycles: int  # the link's idle timeout (clock cycles)
    default_timesteps: int  # T that `snnhw run` uses without --timesteps
    openfpgaloader_board: str  # openFPGALoader's -b name ('' if openFPGALoader has none for the board)
    bitstream: str  # relative to the build directory
    svf: str  # relative to the build directory
    format: str = BOARD_FORMAT
    version: int = BOARD_VERSION
    # optional (left out of the JSON when None)
    package: str | None = None  # nextpnr-ecp5 --package
    speed: str | None = None  # nextpnr-ecp5 --speed
    board_file: str | None = None  # the board definition (.toml) it was made from
    constraints_source: str | None = None  # where the pins come from
    host_link: str | None = None  # how the host reaches the UART, e.g. 'USB serial (FT231X), /dev/ttyUSB0 on Linux'
    top: str | None = None  # the board top module
    rtl: list | None = None  # the board top's Verilog files, relative to the build directory
    lpf: str | None = None  # the pin constraints, relative to the build directory
    pll: dict | None = None  # the PLL's settings

    # -- paths --------------------------------------------------------------
    def bitstream_path(self, build_dir) -> Path:
        return Path(build_dir) / self.bitstream

    def svf_path(self, build_dir) -> Path:
        return Path(build_dir) / self.svf

    # -- conversion ---------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON object, ``format`` and ``version`` first, optional fields that are None left out."""
        d = {k: v for k, v in dataclasses.asdict(self).items() if v is not None or k not in _OPTIONAL}
        return dict(format=d.pop("format"), version=d.pop("version"), **d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def write(self, path) -> Path:
        """Write to ``path`` (the board.json file; its directory is created), atomically; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text(self.to_json())
        os.replace(tmp, path)
        return path

    @classmethod
    def from_dict(cls, data, path="board.json") -> "BoardBuild":
        """Check ``data`` (the parsed JSON) and build the BoardBuild; BoardBuildError names ``path`` and the field."""
        if not isinstance(data, dict):
            raise BoardBuildError(path, f"expected a JSON object, got {json_type_name(data)}")
        if data.get("format") != BOARD_FORMAT:
            raise BoardBuildError(path, f"expected {BOARD_FORMAT!r}, got {data.get('format')!r}: not an snnhw board "
                                  f"description", field="format")
        version = data.get("version")
        if not is_json_int(version):
            raise BoardBuildError(path, f"expected an integer, got {json_type_name(version)}", field="version")
        if version != BOARD_VERSION:
            raise BoardBuildError(path, f"version {version}, this snnhw reads version {BOARD_VERSION}: regenerate "
                                  f"the board top with this snnhw", field="version")
        kw = {}
        for f in dataclasses.fields(cls):
            if f.name in ("format", "version"):
                continue
            if f.name not in data:
                if f.name in _OPTIONAL:
                    continue
                raise BoardBuildError(path, "missing", field=f.name)
            v = data[f.name]
            if v is None and f.name in _OPTIONAL:
                continue
            want = _OPTIONAL.get(f.name) or (int if f.type == "int" else str)
            ok = is_json_int(v) if want is int else isinstance(v, want)
            if want is list and ok:
                ok = all(isinstance(x, str) for x in v)
            if not ok:
                what = {int: "an integer", str: "a string", list: "a list of strings", dict: "an object"}[want]
                raise BoardBuildError(path, f"expected {what}, got {json_type_name(v)}", field=f.name)
            kw[f.name] = v
        for name in ("clock_hz", "baud", "uart_divisor", "idle_cycles", "default_timesteps"):
            if kw[name] < 1:
                raise BoardBuildError(path, f"must be at least 1, got {kw[name]}", field=name)
        if not 0 <= kw["design_id"] < 2**32:
            raise BoardBuildError(path, f"must be a u32 (0..0xFFFFFFFF), got {kw['design_id']}", field="design_id")
        for name in ("board", "bitstream", "svf"):
            if not kw[name]:
                raise BoardBuildError(path, "is empty", field=name)
        return cls(**kw)


_OPTIONAL = dict(package=str, speed=str, board_file=str, constraints_source=str, host_link=str, top=str, rtl=list,
                 lpf=str, pll=dict)


def board_json_path(build_dir) -> Path:
    return Path(build_dir) / BOARD_FILE


def load_board_build(build_dir) -> BoardBuild:
    """Read and check ``build_dir/board/board.json``. Raises :class:`~snnhw.errors.BoardBuildError`."""
    path = board_json_path(build_dir)
    if not path.is_file():
        if not Path(build_dir).is_dir():
            raise BoardBuildError(path, f"no such file: {build_dir} is not a build directory")
        raise BoardBuildError(path, f"no such file: {HOW_TO_GENERATE}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise BoardBuildError(path, f"cannot read it: {e}") from None
    except json.JSONDecodeError as e:
        raise BoardBuildError(path, f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    return BoardBuild.from_dict(data, path)
