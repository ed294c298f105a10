"""The host side of the board link (snnhw run / snnhw program) against a software board (tests/board_fake.py):
in memory, and over a real pseudo-terminal through SerialTransport. No simulator, no hardware."""
from __future__ import annotations

import json
import stat

import numpy as np
import pytest
from click.testing import CliRunner

import rtl_nets as R
from board_fake import FakeBoard, MemoryTransport, PtyBoard
from snnhw.board import protocol as P
from snnhw.board.build_info import BoardBuild, board_json_path, load_board_build
from snnhw.board.driver import BoardClient, ExpectedInfo, run_board
from snnhw.board.transport import SerialTransport
from snnhw.cli import main
from snnhw.codegen import generate_design
from snnhw.errors import (BoardBuildError, BoardError, BoardMismatchError, BoardRejectedError, DataError, ManifestError,
                          OptionError)
from snnhw.reference.golden import run_golden

DESIGN_ID = 0x5EED0001
N_IMAGES = 8


def board_build(**kw) -> BoardBuild:
    return BoardBuild(**dict(dict(board="ulx3s", title="Radiona ULX3S", device="LFE5U-85F", clock_hz=50_000_000,
                                  baud=1_000_000, uart_divisor=50, design_id=DESIGN_ID, idle_cycles=50_000,
                                  default_timesteps=12, openfpgaloader_board="ulx3s",
                                  bitstream="board/snn_board.bit", svf="board/snn_board.svf"), **kw))


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """A build directory as the board flow leaves it (manifest, model.snn.npz, board/board.json), and a data set
    whose labels are the golden model's final classes except for two images (accuracy 6/8 at T = 12)."""
    q = R.qnet_of(R.design_conv_maxpool(), bits=8, max_timesteps=32)
    root = tmp_path_factory.mktemp("board_host")
    out = root / "net"
    generate_design(q, out, parallelism=2, timesteps=4, test_images=R.images(q.input_shape, 1))
    assert (out / "model.snn.npz").is_file()  # generate_design writes it
    board_build().write(board_json_path(out))
    x = R.images(q.input_shape, N_IMAGES, seed=7)
    g = run_golden(q, x, 32)
    y = g.classes[11].copy()
    y[[2, 5]] = (y[[2, 5]] + 1) % q.num_classes
    np.savez(root / "data.npz", x_test=x, y_test=y)
    return dict(dir=out, qnet=q, x=x, y=y, golden=g, data=root / "data.npz", root=root)


def client_for(board, timeout_s=2.0, chunk=4096):
    return BoardClient(MemoryTransport(board, chunk=chunk), timeout_s)


def fake(build, **kw):
    return FakeBoard(build["qnet"], design_id=DESIGN_ID, **kw)


# ---------------------------------------------------------------------------
# board.json

def test_board_json_round_trip_and_errors(tmp_path):
    b = board_build()
    path = b.write(board_json_path(tmp_path))
    assert load_board_build(tmp_path) == b
    assert list(json.loads(path.read_text()))[:2] == ["format", "version"]
    assert b.bitstream_path(tmp_path) == tmp_path / "board" / "snn_board.bit"
    d = b.to_dict()
    for change, field in ((dict(design_id="0x12"), "design_id"), (dict(design_id=2**32), "design_id"),
                          (dict(baud=0), "baud"), (dict(format="snnhw-design"), "format"),
                          (dict(version=2), "version"), (dict(title=3), "title")):
        path.write_text(json.dumps(dict(d, **change)))
        with pytest.raises(BoardBuildError, match=f"board.json: field {field}:") as e:
            load_board_build(tmp_path)
        assert isinstance(e.value, ManifestError)
    path.write_text(json.dumps({k: v for k, v in d.items() if k != "clock_hz"}))
    with pytest.raises(BoardBuildError, match="field clock_hz: missing"):
        load_board_build(tmp_path)
    path.write_text("{")
    with pytest.raises(BoardBuildError, match="not valid JSON"):
        load_board_build(tmp_path)
    path.unlink()
    with pytest.raises(BoardBuildError, match="board.json: no such file.*--board NAME"):
        load_board_build(tmp_path)


# ---------------------------------------------------------------------------
# the driver over an in-memory board

def test_run_checks_every_image_and_reports(build):
    board = fake(build, timesteps=5)
    client = client_for(board, chunk=7)  # replies arrive 7 bytes at a time
    rep = run_board(client, build["x"], build["y"], 12, golden=build["qnet"],
                    expect=ExpectedInfo.from_build(build["dir"]), progress=False)
    assert board.images_seen == N_IMAGES and board.timesteps == 12
    assert [t for t, _ in board.frames] == [P.INFO, P.CONFIG] + [P.IMAGE] * N_IMAGES
    assert rep["checked"] and rep["images"] == N_IMAGES and rep["timesteps"] == 12
    assert rep["accuracy"] == pytest.approx(6 / 8)
    acc = (build["golden"].classes[:12] == build["y"]).mean(axis=1)
    assert rep["accuracy_per_step"] == pytest.approx(acc.tolist())
    assert rep["predictions"] == build["golden"].classes[11].tolist()
    final = build["golden"].classes[11]
    settled = [max([t + 2 for t in range(12) if build["golden"].classes[t, i] != final[i]], default=1)
               for i in range(N_IMAGES)]
    assert rep["settled_at_step"] == settled and rep["settled_at_step_mean"] == np.mean(settled)
    cycles = [1000 + 37 * 12 + 3 * i for i in range(N_IMAGES)]
    assert rep["cycles_per_image"] == cycles
    assert rep["cycles"] == dict(mean=np.mean(cycles), min=min(cycles), max=max(cycles))
    assert rep["images_per_s_compute"] == pytest.approx(50e6 / np.mean(cycles))
    assert rep["images_per_s_link"] > 0 and rep["board_info"]["design_id_hex"] == "0x5EED0001"
    assert rep["line_bytes_per_image"] == dict(to_board=5 + 64, from_board=5 + 6 + (12 + 4) * 2)
    json.dumps(rep)  # all plain JSON


def test_run_with_early_exit(build):
    """run_board sets the early-exit rule with CONFIG: the board sends fewer class beats (steps) than T, each
    image's exit step, classes and potentials are checked against exit_outputs of the golden model, and the
    exit step's class stands for the later steps' accuracy. Without a rule CONFIG turns the board's exit off;
    a board that does not take the rule asked for is refused before any image."""
    from snnhw.board.driver import summary_lines
    from snnhw.reference.early_exit import ExitRule, exit_outputs

    rule = ExitRule(1, 1)
    steps, classes, _ = exit_outputs(build["golden"].potentials[:12], rule)
    assert (steps < 11).any()
    board = fake(build)  # no early exit after reset: CONFIG sets the rule
    rep = run_board(client_for(board), build["x"], build["y"], 12, golden=build["qnet"], progress=False,
                    exit_rule=rule)
    assert board.frames[1] == (P.CONFIG, P.BoardConfig(12, 1, 1).encode())
    assert rep["checked"] and rep["exit_steps"] == steps.tolist() and rep["exit_rule"] == [1, 1]
    assert rep["predictions"] == classes.tolist() and rep["exit_step_mean"] == pytest.approx(steps.mean())
    assert rep["accuracy"] == pytest.approx((classes == build["y"]).mean())
    assert rep["board_info"]["exit_margin"] == 0  # INFO came before CONFIG
    early = int((steps < 11).sum())
    assert (f"early exit (margin 1, min steps 1): {steps.mean() + 1:.2f} steps per image on average, {early} of "
            f"{N_IMAGES} images before step 12") in summary_lines(rep)
    # a board whose rule after reset is an exit: run_board without a rule turns it off, every image runs T steps
    board = fake(build, exit_rule=rule)
    rep = run_board(client_for(board), build["x"], build["y"], 12, golden=build["qnet"], progress=False)
    assert rep["exit_rule"] is None and rep["exit_steps"] == [11] * N_IMAGES and board.exit_rule == ExitRule()
    # a board that keeps its own rule: refused before any image
    board = fake(build, exit_rule=rule, exit_fixed=True)
    with pytest.raises(BoardError, match="asked for the exit rule margin 0, min steps 1; the board set margin 1, "
                                         "min steps 1"):
        run_board(client_for(board), build["x"], build["y"], 12, golden=build["qnet"], progress=False)
    assert board.images_seen == 0
    # unchecked, the rule allows the short results
    rep = run_board(client_for(fake(build)), build["x"], None, 12, progress=False, exit_rule=rule)
    assert rep["exit_steps"] == steps.tolist()
    # a margin beyond what the board's port carries is saturated, and the check uses the rule in force
    board = fake(build, exit_max=1)
    rep = run_board(client_for(board), build["x"], None, 12, golden=build["qnet"], progress=False,
                    exit_rule=ExitRule(1000, 1))
    assert rep["exit_rule"] == [1, 1] and rep["exit_steps"] == steps.tolist()


def test_configure_reports_what_is_in_force(build):
    client = client_for(fake(build))
    assert client.configure(0) == P.BoardConfig(1, 0, 1)
    assert client.configure(99, 5, 0) == P.BoardConfig(32, 5, 1)
    info = client.info()
    assert (info.timesteps, info.exit_margin, info.exit_min_steps) == (32, 5, 1)
    with pytest.raises(OptionError, match=r"exit_margin must be in 0..4294967295 \(a u32\), got -1"):
        client.configure(4, -1)
    with pytest.raises(OptionError, match=r"exit_min_steps must be in 0..65535 \(a u16\), got 65536"):
        client.configure(4, 0, 65536)


def test_precomputed_golden_and_no_labels(build):
    rep = run_board(client_for(fake(build)), build["x"][:5], None, 9, golden=build["golden"], progress=False)
    assert rep["checked"] and rep["accuracy"] is None and rep["accuracy_per_step"] is None
    assert rep["predictions"] == build["golden"].classes[8, :5].tolist()


@pytest.mark.parametrize("kind", ["potential", "class"])
def test_check_stops_at_the_first_difference(build, kind):
    g = build["golden"]
    if kind == "potential":
        bad, gold = 3, int(g.potentials[11, 3, 2])
        board = fake(build, corrupt_potential={3: (2, -1)})
        needle = f"image 3: final potential of class 2 is {gold - 1} on the board, {gold} in the golden model"
    else:
        bad, gold = 4, int(g.classes[6, 4])
        wrong = (gold + 1) % build["qnet"].num_classes
        board = fake(build, corrupt_class={4: (6, wrong)})
        needle = f"image 4: class after step 7 of 12 is {wrong} on the board, {gold} in the golden model"
    with pytest.raises(BoardMismatchError) as e:
        run_board(client_for(board), build["x"], build["y"], 12, golden=build["qnet"], progress=False)
    assert e.value.image == bad and board.images_seen == bad + 1
    assert needle in str(e.value)


def test_error_reply_raises_with_the_boards_message(build):
    board = fake(build, error_on_image={1: P.ERR_TIMEOUT})
    with pytest.raises(BoardError, match=r"board rejected a frame: frame cut short \(idle timeout\) \(frame type "
                                         r"IMAGE\) \(in reply to IMAGE\)"):
        run_board(client_for(board), build["x"], build["y"], 4, progress=False)
    # a frame the board really rejects: an IMAGE one pixel short
    client = client_for(fake(build))
    with pytest.raises(BoardError, match="wrong payload length"):
        client.request(P.IMAGE, bytes(63), P.RESULT)
    # and it answers the next frame normally
    assert client.info().design_id == DESIGN_ID


@pytest.mark.parametrize("over", ["memory", "pty"])
def test_first_contact_recovers_from_a_frame_cut_short(build, over):
    """An interrupted run left the start of an IMAGE in the board: it swallows the INFO, the board answers ERROR
    after its idle timeout, and the client sends INFO again."""
    board = fake(build)
    board.receive(P.encode(P.IMAGE, bytes(64))[:30])
    if over == "memory":
        info = client_for(board).info()
    else:
        with PtyBoard(board) as path, SerialTransport(path, 1_000_000) as transport:
            info = BoardClient(transport, 2.0).info()
    assert info.design_id == DESIGN_ID and board.errors_sent == [(P.ERR_TIMEOUT, P.IMAGE)]
    board = fake(build)
    board.receive(P.encode(P.IMAGE, bytes(64))[:30])
    with pytest.raises(BoardRejectedError, match=r"frame cut short \(idle timeout\) \(frame type IMAGE\)"):
        client_for(board).info(retries=0)


def test_bad_reply_crc_raises(build):
    client = client_for(fake(build, bad_crc_on_image={0}))
    client.info()
    with pytest.raises(BoardError, match="fake board: bad reply to IMAGE: reply frame .* has CRC"):
        client.classify(build["x"][0])


def test_silent_board_times_out_naming_the_command(build):
    with pytest.raises(BoardError, match=r"fake board: no reply to INFO within 0.2 s"):
        client_for(fake(build, silent_on={P.INFO}), timeout_s=0.2).info()
    board = fake(build, silent_on_image={2})
    with pytest.raises(BoardError, match=r"no reply to IMAGE within 0.2 s"):
        run_board(client_for(board, timeout_s=0.2), build["x"], build["y"], 4, progress=False)
    assert board.images_seen == 3


def test_wrong_reply_type_raises(build):
    client = client_for(fake(build))
    with pytest.raises(BoardError, match="expected RESULT in reply to INFO, got INFO_REPLY"):
        client.request(P.INFO, b"", P.RESULT)


@pytest.mark.parametrize("kw, needle", [
    (dict(design_id=0xDEADBEEF), "the board runs another design: id 0xDEADBEEF, {dir} has 0x5EED0001"),
    (dict(pixels_per_image=65), "the board's design takes 65 pixels per image, {dir} has 64"),
    (dict(classes=5), "the board's design takes 5 classes, {dir} has 4"),
    (dict(version=1), "the board speaks host-link protocol version 1, this snnhw speaks version 2"),
    (dict(version=3), "the board speaks host-link protocol version 3, this snnhw speaks version 2"),
])
def test_foreign_design_is_refused_before_any_image(build, kw, needle):
    board = FakeBoard(build["qnet"], **dict(dict(design_id=DESIGN_ID), **kw))
    with pytest.raises(BoardError) as e:
        run_board(client_for(board), build["x"], build["y"], 4, golden=build["qnet"],
                  expect=ExpectedInfo.from_build(build["dir"]), progress=False)
    assert needle.format(dir=build["dir"]) in str(e.value)
    assert board.images_seen == 0 and [t for t, _ in board.frames] == [P.INFO]


def test_info_reply_of_another_protocol_version_is_named():
    """A version 1 board's INFO_REPLY is 18 bytes: its first byte still names the version."""
    import struct

    v1 = struct.pack("<BBHHHHII", 1, 2, 784, 10, 300, 16, 0x1234, 50_000_000)
    with pytest.raises(P.ProtocolError, match="the board speaks host-link protocol version 1, this snnhw speaks "
                                              "version 2"):
        P.BoardInfo.decode(v1)
    with pytest.raises(P.ProtocolError, match="INFO_REPLY has 17 payload bytes, expected 24"):
        P.BoardInfo.decode(bytes([2]) + v1[1:-1])


def test_images_must_fit_the_board(build):
    client = client_for(fake(build))
    with pytest.raises(DataError, match=r"images of 48 pixels \(\(1, 6, 8\)\), the board's design takes 64"):
        run_board(client, build["x"][:, :, :6, :], None, 4, progress=False)
    with pytest.raises(DataError, match="uint8"):
        run_board(client, build["x"].astype(np.float32), None, 4, progress=False)
    with pytest.raises(OptionError, match=r"timesteps must be in 1..32"):
        run_board(client, build["x"], None, 33, progress=False)


# ---------------------------------------------------------------------------
# a real pseudo-terminal, through pyserial

def test_run_over_a_pseudo_terminal(build):
    board = FakeBoard.from_build(build["dir"])
    with PtyBoard(board) as path:
        with SerialTransport(path, 1_000_000) as transport:
            assert transport.name == path
            rep = run_board(BoardClient(transport, 5.0), build["x"][:6], build["y"][:6], 10,
                            golden=build["qnet"], expect=ExpectedInfo.from_build(build["dir"]), progress=False)
    assert board.images_seen == 6 and rep["checked"] and rep["baud"] == 1_000_000
    assert rep["predictions"] == build["golden"].classes[9, :6].tolist()


def test_serial_port_that_cannot_be_opened_is_named(tmp_path):
    with pytest.raises(BoardError, match=f"cannot open serial port {tmp_path}/ttyNONE: No such file"):
        SerialTransport(str(tmp_path / "ttyNONE"), 115200)


# ---------------------------------------------------------------------------
# the command line

def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result, *needles, status=2):
    assert result.exit_code == status, result.output
    lines = [l for l in result.stdout.splitlines() + result.stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("snnhw: ")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def test_cli_run_over_a_pseudo_terminal(build, tmp_path):
    js, png = tmp_path / "run.json", tmp_path / "run.png"
    with PtyBoard(FakeBoard.from_build(build["dir"])) as path:
        r = cli("run", build["dir"], "--port", path, "--data", build["data"], "--json", js, "--plot", png)
    assert r.exit_code == 0, r.output
    print(r.stderr + r.stdout)
    out = r.stdout
    assert "accuracy: 75.00% on 8 images at T=12" in out
    assert "check: every step's class and the final potentials equal the golden model's" in out
    assert "cycles/image: mean 1454.5, min 1444, max 1465" in out and "images/s at 50 MHz" in out
    assert "link-limited:" in out and f"wrote {js}" in out and f"wrote {png}" in out
    assert f"Radiona ULX3S on {path} at 1000000 baud: 8 images" in r.stderr
    rep = json.loads(js.read_text())
    assert rep["accuracy"] == 0.75 and len(rep["accuracy_per_step"]) == 12 and rep["board"] == "ulx3s"
    assert rep["command"].startswith("snnhw run ") and "--port" in rep["command"] and "--check" in rep["command"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_run_check_failure_and_bad_inputs(build, tmp_path):
    with PtyBoard(FakeBoard.from_build(build["dir"], corrupt_potential={5: (1, 7)})) as path:
        r = cli("run", build["dir"], "--port", path, "--data", build["data"], "-T", 6, "--timeout", 5)
        one_line_error(r, "check failed: image 5: final potential of class 1", status=1)
        r = cli("run", build["dir"], "--port", path, "--data", build["data"], "-T", 6, "--no-check", "--images", 3)
        assert r.exit_code == 0 and "check: off" in r.stdout
    wrong = tmp_path / "rgb.npz"
    np.savez(wrong, x_test=np.zeros((3, 9, 9, 3), np.uint8), y_test=np.zeros(3, np.uint8))
    one_line_error(cli("run", build["dir"], "--port", "loop://", "--data", wrong), "rgb.npz", "(9, 9, 3)",
                   "(C, H, W) = (1, 8, 8)")
    floats = tmp_path / "float.npz"
    np.savez(floats, x_test=np.full((3, 1, 8, 8), 0.5, np.float32))
    one_line_error(cli("run", build["dir"], "--port", "loop://", "--data", floats), "float.npz", "uint8")
    one_line_error(cli("run", build["dir"], "--port", "loop://", "--data", build["data"], "-T", 40),
                   "--timesteps 40 exceeds the design's T_MAX = 32")
    one_line_error(cli("run", build["dir"], "--port", tmp_path / "ttyNONE", "--data", build["data"]),
                   f"cannot open serial port {tmp_path}/ttyNONE")
    one_line_error(cli("run", tmp_path, "--port", "loop://", "--data", build["data"]), "manifest.json")
    # loop:// echoes the INFO frame back: a reply of the wrong type
    one_line_error(cli("run", build["dir"], "--port", "loop://", "--data", build["data"], "--timeout", 0.5),
                   "loop://: expected INFO_REPLY in reply to INFO, got INFO")


@pytest.fixture
def bitstream(build):
    bit = load_board_build(build["dir"]).bitstream_path(build["dir"])
    bit.write_bytes(b"\xff\x00 not a real bitstream")
    yield bit
    bit.unlink()


def test_cli_program_dry_run_prints_the_command(build, bitstream):
    r = cli("program", build["dir"], "--dry-run")
    assert r.exit_code == 0, r.output
    cmd = r.stdout.strip().split()
    assert cmd[0].endswith("openFPGALoader") and cmd[1:] == ["-b", "ulx3s", str(bitstream)]
    r = cli("program", build["dir"], "--flash", "--cable", "ft231X", "--dry-run")
    assert r.stdout.strip().split()[1:] == ["-b", "ulx3s", "-f", "-c", "ft231X", str(bitstream)]


def fake_loader(path, script):
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_cli_program_runs_openfpgaloader_and_explains_failures(build, bitstream, tmp_path, monkeypatch):
    log = tmp_path / "args"
    monkeypatch.setenv("SNNHW_OPENFPGALOADER", str(fake_loader(
        tmp_path / "ok", f'echo "$@" > {log}; echo "Open file DONE"; echo "Loading: [====] 100.00%" >&2\n')))
    r = cli("program", build["dir"])
    assert r.exit_code == 0, r.output
    assert log.read_text().split() == ["-b", "ulx3s", str(bitstream)]
    assert "Loading: [====] 100.00%" in r.stderr and "programmed Radiona ULX3S" in r.stdout
    monkeypatch.setenv("SNNHW_OPENFPGALOADER", str(fake_loader(
        tmp_path / "nolib", "echo 'openFPGALoader: error while loading shared libraries: libusb-1.0.so.0: cannot "
                            "open shared object file: No such file or directory' >&2; exit 127\n")))
    one_line_error(cli("program", build["dir"]), "libusb-1.0", "libusb-1.0-0", "cannot open shared object file")
    monkeypatch.setenv("SNNHW_OPENFPGALOADER", str(fake_loader(tmp_path / "nocable",
                                                               "echo 'unable to open ftdi device' >&2; exit 1\n")))
    one_line_error(cli("program", build["dir"]), "openFPGALoader failed (exit status 1): unable to open ftdi device")
    monkeypatch.setenv("SNNHW_OPENFPGALOADER", str(tmp_path / "absent"))
    one_line_error(cli("program", build["dir"]), "cannot start", "absent")


def test_board_json_optional_fields(tmp_path):
    b = board_build(package="CABGA381", speed="6", host_link="USB serial (FT231X), /dev/ttyUSB0 on Linux",
                    rtl=["board/snn_board_top.v"], pll=dict(clki_div=1, vco_mhz=500.0))
    b.write(board_json_path(tmp_path))
    assert load_board_build(tmp_path) == b
    assert "lpf" not in board_build().to_dict() and board_build().lpf is None
    d = dict(b.to_dict(), rtl=[3], extra_key="ignored")
    board_json_path(tmp_path).write_text(json.dumps(d))
    with pytest.raises(BoardBuildError, match="field rtl: expected a list of strings"):
        load_board_build(tmp_path)


@pytest.mark.parametrize("name", ["ulx3s", "icesugar-pro"])
def test_the_board_writers_board_json_loads(build, tmp_path, name):
    """board.json as snnhw.board.board_top writes it loads field for field, and a run against it works."""
    import shutil

    import snnhw.board.board_top as board_top
    from snnhw.board.boards import load_board

    out = tmp_path / "net"
    shutil.copytree(build["dir"], out, ignore=shutil.ignore_patterns("board"))
    info = board_top.write_board_files(out, load_board(name))
    b = load_board_build(out)
    assert b == info and b.host_link
    expect = ExpectedInfo.from_build(out)
    assert expect.design_id == info.design_id == board_top.design_id(out)
    rep = run_board(client_for(FakeBoard.from_build(out)), build["x"][:2], build["y"][:2], b.default_timesteps,
                    golden=build["qnet"], expect=expect, progress=False)
    assert rep["images"] == 2 and rep["clock_hz"] == b.clock_hz


def test_cli_program_needs_board_json_and_bitstream(build, tmp_path):
    one_line_error(cli("program", build["dir"], "--dry-run"), "snn_board.bit: no bitstream",
                   f"snnhw synth {build['dir']} --board ulx3s --bitstream")
    bare = tmp_path / "bare"
    (bare / "board").mkdir(parents=True)
    one_line_error(cli("program", bare), "board.json: no such file", "--board NAME")
    board_build(openfpgaloader_board="").write(board_json_path(bare))
    (bare / "board" / "snn_board.bit").write_bytes(b"\xff")
    one_line_error(cli("program", bare), "field openfpgaloader_board is empty")


def test_board_top_starts_with_the_builds_exit_rule(build, tmp_path):
    """A build generated with an early-exit rule: the board top's host link starts with it (DEFAULT_EXIT_*) and
    drives snn_top's cfg_exit_* from its CONFIG registers; `snnhw run` sends the build's rule unless
    --exit-margin / --exit-min-steps say otherwise, and checks the short results."""
    import snnhw.board.board_top as board_top
    from snnhw.board.boards import load_board
    from snnhw.codegen.manifest import load_manifest
    from snnhw.reference.early_exit import ExitRule, exit_outputs

    q = build["qnet"]
    out = tmp_path / "exit"
    generate_design(q, out, parallelism=2, timesteps=12, test_images=build["x"][:2], exit_rule=ExitRule(2, 3))
    m = load_manifest(out)
    assert (m.exit.margin, m.exit.min_steps) == (2, 3)
    board_top.write_board_files(out, load_board("ulx3s"))
    top = (out / "board" / "snn_board_top.v").read_text()
    assert f".EXIT_W({m.exit.margin_bits}), .DEFAULT_EXIT_MARGIN(2), .DEFAULT_EXIT_MIN_STEPS(3)" in top
    assert ".cfg_exit_margin(cfg_exit_margin), .cfg_exit_min_steps(cfg_exit_min_steps)" in top
    rule = ExitRule(m.exit.margin, m.exit.min_steps)
    rep = run_board(client_for(FakeBoard.from_build(out)), build["x"], None, 12, golden=build["golden"],
                    progress=False, exit_rule=rule)
    assert rep["exit_steps"] == exit_outputs(build["golden"].potentials[:12], rule)[0].tolist()
    # snnhw run: the build's rule by default, or the one given
    data = tmp_path / "data.npz"
    np.savez(data, x_test=build["x"], y_test=build["y"])
    for args, want in (((), rule), (("--exit-margin", 1, "--exit-min-steps", 2), ExitRule(1, 2)),
                       (("--exit-margin", 0), ExitRule(0, 3))):
        board = FakeBoard.from_build(out, exit_rule=ExitRule())
        js = tmp_path / "run.json"
        with PtyBoard(board) as path:
            r = cli("run", out, "--port", path, "--data", data, "-T", 12, "--json", js, *args)
        assert r.exit_code == 0, r.output
        assert board.exit_rule == want
        assert board.frames[1] == (P.CONFIG, P.BoardConfig(12, want.margin, want.min_steps).encode())
        rep = json.loads(js.read_text())
        assert rep["exit_rule"] == ([want.margin, want.min_steps] if want.enabled else None)
        assert rep["exit_steps"] == exit_outputs(build["golden"].potentials[:12], want)[0].tolist()
        assert f"--exit-margin {want.margin} --exit-min-steps {want.min_steps}" in rep["command"]
        assert ("early exit (margin" in r.stdout) == want.enabled


def test_serve_stops_its_simulator_on_sigterm(tmp_path):
    """`snnhw sim --serve` killed with SIGTERM (not Ctrl-C) still stops the simulator it started."""
    import os
    import signal
    import subprocess
    import sys
    import time

    child_pid = tmp_path / "child.pid"
    script = f"""
import subprocess, sys
from pathlib import Path
import snnhw.sim.board_sim as board_sim
from snnhw import cli

def fake_serve(build_dir):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path({str(child_pid)!r}).write_text(str(proc.pid))
    stop_file = Path({str(tmp_path / "stop")!r})
    class Sim:
        port, uart_divisor, process = "/dev/null", 8, proc
        def stop(self):
            stop_file.write_text("stop")
            proc.kill()
            return proc.wait()
    return Sim()

board_sim.serve_board = fake_serve
cli._serve_board("build")
"""
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    while not child_pid.exists():
        assert server.poll() is None, server.communicate()
        assert time.monotonic() - t0 < 60
        time.sleep(0.05)
    time.sleep(0.2)  # the handler is installed right after the simulator starts
    server.send_signal(signal.SIGTERM)
    server.wait(30)
    assert (tmp_path / "stop").read_text() == "stop"
    pid = int(child_pid.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
