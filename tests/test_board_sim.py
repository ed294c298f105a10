"""The board top in simulation, driven by `snnhw run`'s own code through a pseudo-terminal.

The bundled example is wrapped for the ULX3S; ``snnhw.sim.board_sim`` runs
snn_board_top in Verilator (PLL bypassed, UART at 8 clocks per bit) with its
UART pins bridged to a pseudo-terminal, and the host side opens that terminal
through pyserial as it would open /dev/ttyUSB0.
"""
import json
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from example_model import example_qnet

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "mnist_sample.npz"
TIMESTEPS = 8
IMAGES = 20
TIMEOUT_S = 300  # wall-clock silence allowed: the simulation runs far slower than a board


@pytest.fixture(scope="module")
def board_build(tmp_path_factory):
    pytest.importorskip("cocotbext.uart")
    from snnhw.board.board_top import write_board_files
    from snnhw.board.boards import load_board
    from snnhw.codegen import generate_design

    qnet, x_test, _ = example_qnet(max_timesteps=16)
    out = tmp_path_factory.mktemp("board") / "mnist_small"
    generate_design(qnet, out, parallelism=16, timesteps=TIMESTEPS, test_images=x_test[:2].astype(np.uint8))
    info = write_board_files(out, load_board("ulx3s"))
    return out, qnet, info


@pytest.fixture(scope="module")
def board(board_build):
    from snnhw.sim.board_sim import serve_board

    sim = serve_board(board_build[0], wall_limit_s=1800)
    yield sim
    assert sim.stop() == 0, f"the board simulation failed; see {sim.log_file}"


def client(board, timeout=TIMEOUT_S):
    from snnhw.board.driver import BoardClient
    from snnhw.board.transport import SerialTransport

    return BoardClient(SerialTransport(board.port, baud=115200), timeout_s=timeout)


def read_frame(c, what):
    """The board's next frame, read as raw bytes (the request went out as raw bytes too)."""
    from snnhw.board import protocol as P

    parser = P.FrameParser()
    while True:
        data = c.transport.read(4096, TIMEOUT_S)
        assert data, f"no reply to {what}"
        frames = parser.feed(data)
        if frames:
            return frames[0]


def test_snnhw_run_classifies_20_images_as_the_golden_model(board_build, board, tmp_path):
    out, _, info = board_build
    report = tmp_path / "run.json"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "snnhw.cli", "run", str(out), "--port", board.port, "--data",
                           str(SAMPLE), "--images", str(IMAGES), "-T", str(TIMESTEPS), "--timeout", str(TIMEOUT_S),
                           "--json", str(report), "--plot", str(tmp_path / "run.png")],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(report.read_text())
    assert r["images"] == IMAGES and r["timesteps"] == TIMESTEPS and r["checked"] is True
    assert r["board_info"]["design_id"] == info.design_id
    assert r["cycles"]["min"] > 0 and (tmp_path / "run.png").stat().st_size > 0
    print(f"{IMAGES} images through the simulated board in {time.monotonic() - t0:.0f} s:", proc.stdout)


def test_bad_crc_gets_an_error_and_the_next_frame_succeeds(board_build, board):
    from snnhw.board import protocol as P
    from snnhw.errors import BoardRejectedError
    from snnhw.reference.golden import run_golden

    out, qnet, _ = board_build
    c = client(board)
    image = np.load(SAMPLE)["x_test"][:1].reshape(1, *qnet.input_shape).astype(np.uint8)
    frame = bytearray(P.encode(P.IMAGE, image.tobytes()))
    frame[-1] ^= 0x5A  # a wrong CRC
    c.transport.write(bytes(frame))
    reply = read_frame(c, "a frame with a wrong CRC")
    assert (reply.type, reply.payload) == (P.ERROR, bytes([P.ERR_CRC, P.IMAGE]))
    # the very next frame works, and so does an image
    assert c.configure(TIMESTEPS) == P.BoardConfig(TIMESTEPS, 0, 1)
    r = c.classify(image[0])
    g = run_golden(qnet, image, TIMESTEPS)
    assert r.classes.tolist() == g.classes[:, 0].tolist()
    assert r.potentials.tolist() == g.potentials[-1, 0].tolist()
    # an unknown frame type: the client reports the board's ERROR in words
    with pytest.raises(BoardRejectedError, match="unknown frame type"):
        c.request(0x42, b"", P.INFO_REPLY)
    assert c.info().design_id == board_build[2].design_id


def test_frame_cut_short_times_out_and_the_link_recovers(board):
    from snnhw.board import protocol as P

    c = client(board)
    frame = P.encode(P.CONFIG, struct.pack("<H", 5))
    c.transport.write(frame[:3])  # SYNC, TYPE and half the length, then silence
    reply = read_frame(c, "a frame cut short")
    assert (reply.type, reply.payload) == (P.ERROR, bytes([P.ERR_TIMEOUT, P.CONFIG]))
    assert c.configure(5).timesteps == 5 and c.info().timesteps == 5


def test_config_sets_the_exit_rule(board_build, board):
    """CONFIG's exit rule reaches snn_top's cfg_exit_* through the board top: images end at the golden model's
    exit step (some before step T), with its classes and the potentials after that step; margin 0 turns it off."""
    from snnhw.board import protocol as P
    from snnhw.reference.early_exit import ExitRule, exit_outputs, top2_margin
    from snnhw.reference.golden import run_golden

    out, qnet, _ = board_build
    c = client(board)
    x = np.load(SAMPLE)["x_test"][:4].reshape(4, *qnet.input_shape).astype(np.uint8)
    pots = run_golden(qnet, x, TIMESTEPS).potentials
    rule = ExitRule(int(np.median(top2_margin(pots[1:]))), 2)
    steps, classes, final = exit_outputs(pots, rule)
    assert (steps < TIMESTEPS - 1).any() and rule.enabled
    assert c.configure(TIMESTEPS, rule.margin, rule.min_steps) == P.BoardConfig(TIMESTEPS, rule.margin, 2)
    info = c.info()
    assert (info.exit_margin, info.exit_min_steps) == (rule.margin, 2)
    for i in range(len(x)):
        r = c.classify(x[i])
        assert r.steps == steps[i] + 1, (i, r.steps, steps[i])
        assert r.classes.tolist() == pots[:steps[i] + 1, i].argmax(axis=-1).tolist() and r.classes[-1] == classes[i]
        assert r.potentials.tolist() == final[i].tolist()
    assert c.configure(TIMESTEPS) == P.BoardConfig(TIMESTEPS, 0, 1)
    assert c.classify(x[0]).steps == TIMESTEPS


def test_board_top_is_lint_clean(board_build):
    """verilator --lint-only -Wall on the board top and the accelerator, as simulated (PLL bypassed) with and
    without the assertions (synthesis, with the EHXPLLL primitive, is test_board_bitstream's)."""
    from snnhw.codegen.manifest import load_manifest
    from snnhw.sim.tools import verilator_env

    out = board_build[0]
    files = [str(p) for p in load_manifest(out).rtl_paths(out)] + [str(out / "board" / "snn_board_top.v")]
    for defines in (["-DSNNHW_PLL_BYPASS"], ["-DSNNHW_PLL_BYPASS", "-DSNNHW_ASSERT"]):
        proc = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", "snn_board_top", *defines,
                               *files], env=verilator_env(), capture_output=True, text=True, timeout=600)
        said = proc.stdout + proc.stderr
        assert proc.returncode == 0 and "%Warning" not in said and "%Error" not in said, said


def test_host_timeout_names_the_command_and_the_link_recovers(board_build, board):
    """`snnhw run`'s client gives up on a reply after its --timeout (naming the command and the seconds); the
    late RESULT is dropped as stale before the next request, which succeeds."""
    from snnhw.board import protocol as P
    from snnhw.board.driver import BoardClient
    from snnhw.errors import BoardError
    from snnhw.reference.golden import run_golden

    out, qnet, _ = board_build
    c = client(board)
    impatient = BoardClient(c.transport, timeout_s=0.01)
    impatient.board_info = c.info()
    image = np.load(SAMPLE)["x_test"][:1].reshape(1, *qnet.input_shape).astype(np.uint8)
    with pytest.raises(BoardError, match=r"no reply to IMAGE within 0.01 s"):
        impatient.classify(image[0])
    late = read_frame(c, "the IMAGE the client gave up on")
    assert late.type == P.RESULT
    assert c.configure(TIMESTEPS).timesteps == TIMESTEPS
    r = c.classify(image[0])
    assert r.potentials.tolist() == run_golden(qnet, image, TIMESTEPS).potentials[-1, 0].tolist()
