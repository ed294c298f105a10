"""The host side of the board link: one request, one reply (:class:`BoardClient`), and a whole run over a data
set with the golden-model check (:func:`run_board`), what ``snnhw run`` does.

The frames are :mod:`snnhw.board.protocol`'s; the bytes go through a
:class:`~snnhw.board.transport.Transport`. Every failure is a
:class:`~snnhw.errors.BoardError` with a one-line message: the board did not
answer (naming the command and the seconds waited), answered with a bad
frame or an ERROR frame, runs another design than the build directory, or
(:class:`~snnhw.errors.BoardMismatchError`) computed something the golden
model did not.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnhw.board import protocol as P
from snnhw.board.protocol import BoardConfig, BoardInfo, Frame, FrameParser, ProtocolError, Result
from snnhw.board.transport import Transport
from snnhw.errors import BoardError, BoardMismatchError, BoardRejectedError, DataError, OptionError

DEFAULT_TIMEOUT_S = 10.0
GOLDEN_BATCH = 64  # images per golden-model call when run_board computes it as it goes
RETRY_PAUSE_S = 0.05  # before INFO is sent again after an ERROR reply (longer than the board's idle timeout)
NOISE_BYTES = 4096  # bytes that are not frames before a reply is called line noise

__all__ = ["BoardClient", "BoardConfig", "BoardInfo", "ExpectedInfo", "Result", "check_info", "plot_run", "run_board",
           "summary_lines"]


def _type_name(t: int) -> str:
    return P.TYPE_NAMES.get(t, f"0x{t:02X}")


class BoardClient:
    """Requests to a board over ``transport``; each sends one frame and waits for its reply.

    ``timeout_s`` is the longest silence accepted: before a reply's first byte
    (the board computes then) and between its bytes.
    """

    def __init__(self, transport: Transport, timeout_s: float = DEFAULT_TIMEOUT_S):
        if timeout_s <= 0:
            raise OptionError(f"timeout must be positive, got {timeout_s}")
        self.transport = transport
        self.timeout_s = float(timeout_s)
        self.board_info: BoardInfo | None = None  # the last INFO_REPLY
        self.stale_bytes = 0  # bytes found waiting before a request (dropped)

    @property
    def name(self) -> str:
        return getattr(self.transport, "name", "board")

    # -- requests -------------------------------------------------------------
    def info(self, retries: int = 1) -> BoardInfo:
        """INFO: what the board runs (protocol version, design id, sizes, clock).

        An ERROR reply is retried ``retries`` times: on first contact the
        board may still hold the start of a frame from an interrupted run,
        which swallows the INFO; it drops both after its idle timeout, answers
        ERROR, and takes the next frame."""
        for attempt in range(retries + 1):
            try:
                frame = self.request(P.INFO, b"", P.INFO_REPLY)
                break
            except BoardRejectedError:
                if attempt == retries:
                    raise
                time.sleep(RETRY_PAUSE_S)
        try:
            self.board_info = BoardInfo.decode(frame.payload)
        except ProtocolError as exc:
            raise BoardError(f"{self.name}: bad reply to INFO: {exc}") from None
        return self.board_info

    def configure(self, timesteps: int, exit_margin: int = 0, exit_min_steps: int = 1) -> BoardConfig:
        """CONFIG: set the time steps per image and the early-exit rule (``exit_margin`` 0: no early exit);
        returns the settings now in force (timesteps 0 -> 1 and clamped to T_MAX, exit_min_steps 0 -> 1,
        both exit fields saturated at what the accelerator's ports carry)."""
        for name, value, top in (("timesteps", timesteps, 0xFFFF), ("exit_margin", exit_margin, 0xFFFFFFFF),
                                 ("exit_min_steps", exit_min_steps, 0xFFFF)):
            if not 0 <= int(value) <= top:
                raise OptionError(f"{name} must be in 0..{top} ({'a u32' if top > 0xFFFF else 'a u16'}), got {value}")
        want = BoardConfig(int(timesteps), int(exit_margin), int(exit_min_steps))
        frame = self.request(P.CONFIG, want.encode(), P.CONFIG_REPLY)
        try:
            return BoardConfig.decode(frame.payload)
        except ProtocolError as exc:
            raise BoardError(f"{self.name}: bad reply to CONFIG: {exc}") from None

    def classify(self, image) -> Result:
        """IMAGE: one image's uint8 pixels (C-H-W order, any shape of ``pixels_per_image`` elements); returns the
        class after every step, the final potentials and the on-chip cycles. Reads INFO first if not done yet."""
        info = self.board_info or self.info()
        image = np.asarray(image)
        if image.dtype != np.uint8:
            raise DataError(f"an image for the board must be uint8 pixels, got dtype {image.dtype}")
        if image.size != info.pixels_per_image:
            raise DataError(f"an image of {image.size} pixels, the board takes {info.pixels_per_image}")
        frame = self.request(P.IMAGE, np.ascontiguousarray(image).reshape(-1).tobytes(), P.RESULT)
        try:
            return Result.decode(frame.payload, info.classes, info.beat_bytes)
        except ProtocolError as exc:
            raise BoardError(f"{self.name}: bad reply to IMAGE: {exc}") from None

    def request(self, frame_type: int, payload: bytes, reply_type: int) -> Frame:
        """Send one frame, return its reply (of ``reply_type``); BoardError on silence, ERROR, a bad frame."""
        name = _type_name(frame_type)
        self.stale_bytes += self.transport.discard_input()
        self.transport.write(P.encode(frame_type, payload))
        parser = FrameParser()
        while True:
            data = self.transport.read(4096, self.timeout_s)
            if not data:
                raise BoardError(self._silence(name, parser))
            try:
                frames = parser.feed(data)
            except ProtocolError as exc:
                raise BoardError(f"{self.name}: bad reply to {name}: {exc}") from None
            if frames:
                return self._reply(frames[0], name, reply_type)
            if parser.skipped > NOISE_BYTES:
                raise BoardError(f"{self.name}: {parser.skipped} bytes in reply to {name} and no frame: line noise "
                                 f"(is the baud rate right?)")

    def _silence(self, name: str, parser: FrameParser) -> str:
        if parser.pending:
            what = f"its reply to {name} stopped after {parser.pending} bytes"
        else:
            what = f"no reply to {name}"
        noise = (f" ({parser.skipped} bytes received were not frames: is the baud rate right?)"
                 if parser.skipped else "")
        return f"{self.name}: {what} within {self.timeout_s:g} s{noise}"

    def _reply(self, frame: Frame, name: str, reply_type: int) -> Frame:
        if frame.type == P.ERROR:
            raise BoardRejectedError(f"{self.name}: {P.error_message(frame.payload)} (in reply to {name})")
        if frame.type != reply_type:
            raise BoardError(f"{self.name}: expected {_type_name(reply_type)} in reply to {name}, got "
                             f"{_type_name(frame.type)} ({len(frame.payload)} payload bytes)")
        return frame


# ---------------------------------------------------------------------------
# what the board must report

@dataclass(frozen=True)
class ExpectedInfo:
    """What INFO_REPLY must say for a build directory; None fields are not checked."""

    design_id: int | None = None
    pixels_per_image: int | None = None
    classes: int | None = None
    beat_bytes: int | None = None
    t_max: int | None = None
    where: str = "the build"  # named in messages

    @classmethod
    def from_build(cls, build_dir) -> "ExpectedInfo":
        """From BUILD/manifest.json and BUILD/board/board.json."""
        from snnhw.board.build_info import load_board_build
        from snnhw.codegen.manifest import load_manifest

        m = load_manifest(build_dir)
        b = load_board_build(build_dir)
        return cls(design_id=b.design_id, pixels_per_image=m.interface.pixels_per_image,
                   classes=m.interface.classes, beat_bytes=m.interface.m_axis.tdata_bits // 8,
                   t_max=m.interface.max_timesteps, where=str(build_dir))


def check_info(info: BoardInfo, expect: ExpectedInfo | None = None, where: str = "board") -> None:
    """Refuse a board that speaks another protocol version or runs another design than ``expect``."""
    if info.version != P.VERSION:
        raise BoardError(f"{where}: the board speaks host-link protocol version {info.version}, this snnhw "
                         f"speaks version {P.VERSION}: rebuild the bitstream with this snnhw, or use the snnhw "
                         f"that built it")
    if expect is None:
        return
    if expect.design_id is not None and info.design_id != expect.design_id:
        raise BoardError(f"{where}: the board runs another design: id 0x{info.design_id:08X}, {expect.where} has "
                         f"0x{expect.design_id:08X} (program it with: snnhw program {expect.where})")
    for field, what in (("pixels_per_image", "pixels per image"), ("classes", "classes"),
                        ("beat_bytes", "bytes per result beat"), ("t_max", "T_MAX")):
        want = getattr(expect, field)
        got = getattr(info, field)
        if want is not None and got != want:
            raise BoardError(f"{where}: the board's design takes {got} {what}, {expect.where} has {want}: it runs "
                             f"another design (program it with: snnhw program {expect.where})")


# ---------------------------------------------------------------------------
# a whole run

class _Golden:
    """The golden model's classes and final potentials for image i, computed in batches as the run goes, or
    taken from a precomputed result (anything with ``potentials`` (T', N', K), T' >= T, N' >= N)."""

    def __init__(self, golden, images, timesteps, batch=GOLDEN_BATCH):
        self.images, self.timesteps, self.batch = images, timesteps, batch
        self.qnet = None
        self.start = None
        self.pots = None
        if hasattr(golden, "potentials"):
            pots = np.asarray(golden.potentials)
            if pots.ndim != 3 or pots.shape[0] < timesteps or pots.shape[1] < len(images):
                raise OptionError(f"the precomputed golden result has potentials of shape {pots.shape}, needs "
                                  f"(T >= {timesteps}, N >= {len(images)}, K)")
            self.start, self.pots = 0, pots[:timesteps]
        else:
            self.qnet = golden

    def at(self, i: int):
        if self.start is None or not self.start <= i < self.start + self.pots.shape[1]:
            from snnhw.reference.golden import run_golden

            self.start = i
            self.pots = run_golden(self.qnet, self.images[i:i + self.batch], self.timesteps).potentials
        return self.pots[:, i - self.start]   # (T, K)


def _expected(pots, rule):
    """(steps, classes (steps,), potentials (K,)) the board must send for one image's golden (T, K)
    potentials: every step without early exit, else up to the exit step (snnhw.reference.early_exit)."""
    from snnhw.reference.early_exit import exit_outputs

    if rule is None or not rule.enabled:
        return pots.shape[0], pots.argmax(axis=-1), pots[-1]
    e = int(exit_outputs(pots[:, None, :], rule)[0][0])
    return e + 1, pots[:e + 1].argmax(axis=-1), pots[e]


def _compare(i: int, r: Result, steps: int, classes, potentials, timesteps: int) -> None:
    if r.steps != steps:
        how = "" if steps == timesteps else f" (it exits after step {steps} of {timesteps})"
        raise BoardMismatchError(f"image {i}: the board ran {r.steps} steps, the golden model {steps}{how}", i)
    bad = np.flatnonzero(r.classes != classes)
    if bad.size:
        s = int(bad[0])
        raise BoardMismatchError(f"image {i}: class after step {s + 1} of {timesteps} is {int(r.classes[s])} on "
                                 f"the board, {int(classes[s])} in the golden model"
                                 + (f" ({bad.size} steps differ)" if bad.size > 1 else ""), i)
    bad = np.flatnonzero(r.potentials != potentials)
    if bad.size:
        k = int(bad[0])
        raise BoardMismatchError(f"image {i}: final potential of class {k} is {int(r.potentials[k])} on the "
                                 f"board, {int(potentials[k])} in the golden model"
                                 + (f" ({bad.size} of {len(potentials)} potentials differ)" if bad.size > 1
                                    else ""), i)


def run_board(client: BoardClient, images, labels=None, timesteps: int = 16, *, golden=None,
              expect: ExpectedInfo | None = None, progress: bool = True, exit_rule=None) -> dict:
    """Classify ``images`` (uint8 (N, C, H, W), or (N, pixels)) on the board and return the report.

    Reads INFO and refuses a board of another protocol version or design
    (``expect``, e.g. ``ExpectedInfo.from_build(BUILD)``) before any image;
    sends CONFIG (``timesteps`` and ``exit_rule``); streams the images one by one (a progress bar on stderr).
    With ``golden`` (a QNetwork, or a precomputed golden result with
    ``potentials`` (T, N, K)) every result must equal the golden model's,
    class after every step and final potentials: the first difference raises
    :class:`~snnhw.errors.BoardMismatchError` naming the image.
    ``exit_rule`` (:class:`~snnhw.reference.early_exit.ExitRule`, e.g. the build's ``manifest.exit``; None:
    no early exit): the early exit CONFIG sets on the board, an image may end after fewer steps (its classes
    after the exit step are the exit step's, for the per-step accuracy); with ``golden`` its exit step must be
    the golden model's under the rule the board reports in force.
    ``labels`` (N,) or None: without them no accuracy.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise DataError(f"images for the board must be uint8 pixels, got dtype {images.dtype}")
    n = len(images)
    if n == 0:
        raise DataError("no images to run")
    if labels is not None:
        labels = np.asarray(labels).astype(np.int64).reshape(-1)
        if len(labels) != n:
            raise DataError(f"{n} images but {len(labels)} labels")
    pixels = int(np.prod(images.shape[1:]))
    where = client.name

    info = client.info()
    check_info(info, expect, where)
    if pixels != info.pixels_per_image:
        raise DataError(f"images of {pixels} pixels ({tuple(images.shape[1:])}), the board's design takes "
                        f"{info.pixels_per_image}")
    if not 1 <= timesteps <= info.t_max:
        raise OptionError(f"timesteps must be in 1..{info.t_max} (the design's T_MAX), got {timesteps}")
    from snnhw.reference.early_exit import ExitRule

    rule = exit_rule if exit_rule is not None else ExitRule()
    cfg = client.configure(timesteps, rule.margin, rule.min_steps)
    if cfg.timesteps != timesteps:
        raise BoardError(f"{where}: asked for {timesteps} time steps, the board set {cfg.timesteps}")
    try:
        # the rule in force: a margin or min steps beyond the accelerator's ports is saturated to one that
        # behaves the same (never met, no exit before the last step)
        exit_rule = ExitRule(cfg.exit_margin, cfg.exit_min_steps)
    except ValueError as exc:
        raise BoardError(f"{where}: bad reply to CONFIG: {exc}") from None
    # equal to the request, or lowered by that saturation (never to 0: the rule stays on or off as asked)
    if not (cfg.exit_margin == rule.margin or 0 < cfg.exit_margin < rule.margin) or \
            not (cfg.exit_min_steps == rule.min_steps or 0 < cfg.exit_min_steps < rule.min_steps):
        raise BoardError(f"{where}: asked for the exit rule margin {rule.margin}, min steps {rule.min_steps}; the "
                         f"board set margin {cfg.exit_margin}, min steps {cfg.exit_min_steps}")
    gold = _Golden(golden, images, timesteps) if golden is not None else None

    hits = np.zeros(timesteps, np.int64)
    predictions, settled, cycles, exits = [], [], [], []
    early = exit_rule is not None and exit_rule.enabled
    link_s = 0.0
    from tqdm import tqdm

    bar = tqdm(total=n, unit="img", desc=f"board {where}", file=sys.stderr, disable=not progress, leave=False)
    try:
        for i in range(n):
            t0 = time.perf_counter()
            r = client.classify(images[i])
            link_s += time.perf_counter() - t0
            if gold is not None:
                _compare(i, r, *_expected(gold.at(i), exit_rule), timesteps)
            elif r.steps != timesteps and not (early and 1 <= r.steps <= timesteps):
                raise BoardError(f"{where}: image {i}: the board ran {r.steps} steps, {timesteps} were set")
            predictions.append(int(r.classes[-1]))
            exits.append(int(r.steps) - 1)
            changes = np.flatnonzero(r.classes != r.classes[-1])
            settled.append(int(changes[-1]) + 2 if changes.size else 1)
            cycles.append(r.cycles)
            if labels is not None:
                # after an early exit the image's answer stays the exit step's
                full = np.concatenate([r.classes, np.full(timesteps - len(r.classes), r.classes[-1])])
                hits += full == labels[i]
                if i % 10 == 9 or i == n - 1:
                    bar.set_postfix(acc=f"{100 * hits[-1] / (i + 1):.1f}%", refresh=False)
            bar.update(1)
    finally:
        bar.close()

    cyc = np.array(cycles, dtype=np.float64)
    up = P.OVERHEAD_BYTES + info.pixels_per_image
    down = P.result_frame_bytes(timesteps, info.classes, info.beat_bytes)
    baud = getattr(client.transport, "baud", None)
    return dict(
        port=where,
        board_info=dict(dataclasses.asdict(info), design_id_hex=f"0x{info.design_id:08X}"),
        images=n,
        timesteps=timesteps,
        checked=gold is not None,
        accuracy=float(hits[-1] / n) if labels is not None else None,
        accuracy_per_step=(hits / n).tolist() if labels is not None else None,
        predictions=predictions,
        settled_at_step=settled,
        settled_at_step_mean=float(np.mean(settled)),
        exit_rule=[exit_rule.margin, exit_rule.min_steps] if early else None,
        exit_steps=exits,
        exit_step_mean=float(np.mean(exits)),
        cycles_per_image=cycles,
        cycles=dict(mean=float(cyc.mean()), min=int(cyc.min()), max=int(cyc.max())),
        clock_hz=info.clock_hz,
        images_per_s_compute=float(info.clock_hz / cyc.mean()) if cyc.mean() > 0 else None,
        images_per_s_link=float(n / link_s) if link_s > 0 else None,
        link_seconds=link_s,
        line_bytes_per_image=dict(to_board=up, from_board=down),
        baud=baud,
        images_per_s_line=float(baud / 10 / (up + down)) if baud else None,
    )


def summary_lines(report: dict) -> list:
    """The printed summary of a run_board report."""
    n, t = report["images"], report["timesteps"]
    mhz = report["clock_hz"] / 1e6
    lines = []
    if report["accuracy"] is not None:
        lines.append(f"accuracy: {100 * report['accuracy']:.2f}% on {n} images at T={t}")
    else:
        lines.append(f"{n} images at T={t} (no labels: accuracy not measured)")
    lines.append(f"output settles (holds its final class from then on) at step {report['settled_at_step_mean']:.1f} "
                 f"on average, {max(report['settled_at_step'])} at the latest")
    if report.get("exit_rule"):
        margin, min_steps = report["exit_rule"]
        early = sum(e + 1 < t for e in report["exit_steps"])
        lines.append(f"early exit (margin {margin}, min steps {min_steps}): {report['exit_step_mean'] + 1:.2f} steps "
                     f"per image on average, {early} of {n} images before step {t}")
    lines.append("check: every step's class and the final potentials equal the golden model's"
                 if report["checked"] else "check: off (--no-check)")
    c = report["cycles"]
    lines.append(f"cycles/image: mean {c['mean']:.1f}, min {c['min']}, max {c['max']}")
    rate = report["images_per_s_compute"]
    lines.append(f"on-chip: {rate:.1f} images/s at {mhz:g} MHz" if rate else "on-chip: (no cycles reported)")
    link = report["images_per_s_link"]
    line = (f"; the frames' bytes alone allow {report['images_per_s_line']:.1f} at {report['baud']} baud"
            if report.get("images_per_s_line") else "")
    lines.append(f"link-limited: {link:.1f} images/s (wall clock{line})")
    return lines


def plot_run(report: dict, path, title: str = "") -> None:
    """Accuracy against time step of a run (needs labels), as a PNG."""
    if report["accuracy_per_step"] is None:
        raise OptionError("a plot of accuracy needs labels (y_test)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acc = 100 * np.array(report["accuracy_per_step"])
    steps = np.arange(1, len(acc) + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    ax.plot(steps, acc, marker="." if len(acc) <= 64 else None,
            label=f"board ({'checked against the golden model' if report['checked'] else 'unchecked'})")
    ax.set_xlabel("time step T")
    ax.set_ylabel("accuracy (%)")
    lo = float(acc[len(acc) // 10:].min())
    ax.set_ylim(max(0.0, lo - 5), 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    import textwrap

    ax.set_title("\n".join(textwrap.wrap(title or f"{report['images']} images on the board", 60)), fontsize=10)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(path.name + ".partial.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
