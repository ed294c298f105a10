"""Board definitions: one small TOML file per board (``snnhw/board/boards/*.toml``).

A board file names the FPGA (device, package, speed grade), the oscillator,
the UART pins of the host link, an optional reset button and the status LEDs,
each pin with the IO settings of the vendor's constraint file, and cites that
file (``constraints_source``). ``load_board`` takes a built-in name or the path
of a user's own file with the same fields; ``lpf`` writes the constraints
nextpnr-ecp5 reads.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from snnhw.errors import OptionError
from snnhw.synth.devices import DEVICES

BOARD_DIR = Path(__file__).resolve().parent / "boards"

# the top-level ports of snn_board_top (snnhw/rtl_templates/snn_board_top.v.j2)
CLOCK_PORT = "clk_osc"
RESET_PORT = "btn_reset"
UART_RX_PORT = "uart_rx"
UART_TX_PORT = "uart_tx"
LED_PORT = "led"


@dataclass(frozen=True)
class Pin:
    site: str
    io: str  # LPF IOBUF settings, e.g. "IO_TYPE=LVCMOS33 PULLMODE=UP"


@dataclass(frozen=True)
class Board:
    name: str
    title: str
    device: str  # a name from snnhw.synth.devices.DEVICES (ECP5)
    package: str  # nextpnr-ecp5 --package
    speed: str  # nextpnr-ecp5 --speed
    constraints_source: str  # the vendor constraint file (repository, path, revision) the pins come from
    clock_mhz: float  # the oscillator
    clock: Pin
    uart_rx: Pin  # FPGA receives
    uart_tx: Pin  # FPGA transmits
    leds: tuple = ()  # Pin per LED, in status order: heartbeat, PLL lock, busy, error, class bits
    reset: Pin | None = None
    reset_active_high: bool = True
    openfpgaloader_board: str = ""
    host_link: str = ""
    default_clock_mhz: float = 50.0
    default_baud: int = 115200
    source_file: str = field(default="", compare=False)

    @property
    def nextpnr_device(self) -> tuple:
        return DEVICES[self.device].pnr_args


def builtin_boards() -> list:
    """Names of the boards shipped with snnhw."""
    return sorted(load_board(p).name for p in BOARD_DIR.glob("*.toml"))


def _board_path(name_or_path) -> Path:
    """A board file: an existing file, else a built-in board's name (a directory of that name, such as a
    build directory called ulx3s, does not hide the built-in board)."""
    p = Path(str(name_or_path))
    if p.is_file():
        return p
    if p.suffix == ".toml" or len(p.parts) > 1:
        raise OptionError(f"--board {name_or_path}: no such board file")
    for f in BOARD_DIR.glob("*.toml"):
        if f.stem.replace("_", "-") == str(name_or_path).lower().replace("_", "-"):
            return f
    known = ", ".join(sorted(f.stem.replace("_", "-") for f in BOARD_DIR.glob("*.toml")))
    raise OptionError(f"--board {name_or_path}: unknown board (built in: {known}; or give the path of a .toml "
                      f"board file, see docs/boards.md)")


def _need(d: dict, key: str, path, typ, where: str = ""):
    full = f"{where}.{key}" if where else key
    if key not in d:
        raise OptionError(f"{path}: board field {full}: missing")
    v = d[key]
    if typ is float and isinstance(v, int):
        v = float(v)
    if not isinstance(v, typ) or isinstance(v, bool) and typ is not bool:
        raise OptionError(f"{path}: board field {full}: expected {typ.__name__}, got {v!r}")
    return v


def load_board(name_or_path) -> Board:
    """A built-in board by name (``ulx3s``) or a board file by path; errors name the file and the field."""
    path = _board_path(name_or_path)
    try:
        d = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise OptionError(f"{path}: not a readable TOML board file: {e}")
    device = _need(d, "device", path, str)
    if device not in DEVICES or DEVICES[device].target != "ecp5":
        ecp5 = ", ".join(n for n, dv in DEVICES.items() if dv.target == "ecp5")
        raise OptionError(f"{path}: board field device: {device!r} is not an ECP5 part snnhw knows ({ecp5})")
    clock = _need(d, "clock", path, dict)
    uart = _need(d, "uart", path, dict)
    leds = d.get("leds", {})
    led_pins = leds.get("pins", [])
    if not isinstance(led_pins, list) or not all(isinstance(p, str) for p in led_pins) or len(led_pins) > 8:
        raise OptionError(f"{path}: board field leds.pins: expected a list of up to 8 pin names")
    reset = d.get("reset")
    board = Board(
        name=_need(d, "name", path, str), title=_need(d, "title", path, str), device=device,
        package=_need(d, "package", path, str), speed=str(_need(d, "speed", path, str)),
        constraints_source=_need(d, "constraints_source", path, str),
        clock_mhz=_need(clock, "mhz", path, float, "clock"),
        clock=Pin(_need(clock, "pin", path, str, "clock"), clock.get("io", "")),
        uart_rx=Pin(_need(uart, "rx_pin", path, str, "uart"), uart.get("rx_io", "")),
        uart_tx=Pin(_need(uart, "tx_pin", path, str, "uart"), uart.get("tx_io", "")),
        leds=tuple(Pin(p, leds.get("io", "")) for p in led_pins),
        reset=Pin(_need(reset, "pin", path, str, "reset"), reset.get("io", "")) if reset else None,
        reset_active_high=bool(reset.get("active_high", True)) if reset else True,
        openfpgaloader_board=d.get("openfpgaloader_board", ""), host_link=d.get("host_link", ""),
        default_clock_mhz=float(d.get("default_clock_mhz", 50.0)), default_baud=int(d.get("default_baud", 115200)),
        source_file=str(path))
    if board.clock_mhz <= 0:
        raise OptionError(f"{path}: board field clock.mhz: must be positive")
    return board


def lpf(board: Board, clock_mhz: float) -> str:
    """The LPF constraints of snn_board_top's ports on ``board`` (system clock ``clock_mhz`` after the PLL)."""
    lines = [f"# {board.title}: snn_board_top's pins, generated by snnhw from {Path(board.source_file).name}",
             f"# pins and IO settings from {board.constraints_source}",
             "BLOCK RESETPATHS;", "BLOCK ASYNCPATHS;"]

    def place(port, pin):
        lines.append(f'LOCATE COMP "{port}" SITE "{pin.site}";')
        if pin.io:
            lines.append(f'IOBUF PORT "{port}" {pin.io};')

    place(CLOCK_PORT, board.clock)
    lines.append(f'FREQUENCY PORT "{CLOCK_PORT}" {board.clock_mhz:g} MHZ;')
    place(UART_RX_PORT, board.uart_rx)
    place(UART_TX_PORT, board.uart_tx)
    if board.reset is not None:
        place(RESET_PORT, board.reset)
    for i, pin in enumerate(board.leds):
        place(f"{LED_PORT}[{i}]", pin)
    return "\n".join(lines) + "\n"
