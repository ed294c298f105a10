"""Shared helpers of the benchmark scripts: paths, data, models, timing, JSON.

Every script takes ``--shared`` (default: ``../shared`` beside the checkout)
and ``--quick`` (tiny subsets, few steps, output to a temporary directory
unless ``--out`` is given). Full runs write into ``docs/figures/``.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIGURES = REPO / "docs" / "figures"
CACHE = REPO / "build" / "bench_cache"  # accuracy curves shared between scripts (see cached())
_cache_enabled = True

DATASETS = {"mnist": "mnist_paper", "cifar10": "cifar10_paper"}
MODEL_OF = {"mnist_paper": "mnist", "cifar10_paper": "cifar10"}
CALIB_SIZE = 2000  # training images used for normalization (fixed-seed random subset)
CALIB_SEED = 0

# torch definitions of the reference networks (../shared/models/README.md)
TORCH_DEFS = {
    "mnist_paper": [
        ("Conv2d", (1, 16, 3), dict(padding=1)), ("BatchNorm2d", (16,), {}), ("ReLU", (), {}),
        ("Conv2d", (16, 32, 3), dict(padding=1)), ("BatchNorm2d", (32,), {}), ("ReLU", (), {}),
        ("MaxPool2d", (2,), {}),
        ("Conv2d", (32, 32, 3), dict(padding=1)), ("BatchNorm2d", (32,), {}), ("ReLU", (), {}),
        ("MaxPool2d", (2,), {}), ("Flatten", (), {}),
        ("Linear", (1568, 128), {}), ("ReLU", (), {}), ("Dropout", (0.3,), {}),
        ("Linear", (128, 10), {}), ("Softmax", (), dict(dim=1)),
    ],
    "cifar10_paper": [
        ("Conv2d", (3, 32, 3), dict(padding=1)), ("BatchNorm2d", (32,), {}), ("ReLU", (), {}),
        ("Conv2d", (32, 32, 3), dict(padding=1)), ("BatchNorm2d", (32,), {}), ("ReLU", (), {}),
        ("MaxPool2d", (2,), {}),
        ("Conv2d", (32, 64, 3), dict(padding=1)), ("BatchNorm2d", (64,), {}), ("ReLU", (), {}),
        ("Conv2d", (64, 64, 3), dict(padding=1)), ("BatchNorm2d", (64,), {}), ("ReLU", (), {}),
        ("MaxPool2d", (2,), {}), ("Flatten", (), {}), ("Dropout", (0.4,), {}),
        ("Linear", (4096, 512), {}), ("ReLU", (), {}), ("Dropout", (0.4,), {}),
        ("Linear", (512, 10), {}), ("Softmax", (), dict(dim=1)),
    ],
}


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
_COMMAND = None


class _Parser(argparse.ArgumentParser):
    """Records the command line (script + arguments) for the JSON files, also when called in-process."""

    script = None

    def parse_args(self, args=None, namespace=None):
        global _COMMAND
        argv = sys.argv[1:] if args is None else list(args)
        _COMMAND = " ".join(["python", self.script or sys.argv[0], *argv])
        return super().parse_args(args, namespace)


def parser(description: str) -> argparse.ArgumentParser:
    import inspect

    p = _Parser(description=description)
    caller = Path(inspect.stack()[1].filename).resolve()
    p.script = str(caller.relative_to(REPO)) if caller.is_relative_to(REPO) else str(caller)
    p.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                   help="directory holding data/ and models/ (default: ../shared beside the checkout)")
    p.add_argument("--quick", action="store_true", help="tiny subsets and few steps (seconds); output to a tmp dir")
    p.add_argument("--out", type=Path, default=None, help="output directory (default: docs/figures, or a tmp dir with --quick)")
    p.add_argument("--models", nargs="+", default=list(DATASETS.values()), choices=list(DATASETS.values()))
    p.add_argument("--images", type=int, default=None, help="test images per model (default: all)")
    p.add_argument("--calib-size", type=int, default=CALIB_SIZE)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--no-cache", action="store_true",
                   help=f"recompute every curve instead of reusing {CACHE.relative_to(REPO)}/")
    return p


def setup(args) -> Path:
    """Check ../shared, fix the output directory; exit 0 with a message when the data are absent."""
    shared = Path(args.shared)
    missing = [m for m in args.models
               if not (shared / "models" / f"{m}.onnx").exists() or not (shared / "data" / f"{MODEL_OF[m]}.npz").exists()]
    if missing:
        print(f"SKIP: {shared} lacks the models/data for {', '.join(missing)} "
              f"(the shared data sets are not beside this checkout; pass --shared DIR)")
        sys.exit(0)
    global _cache_enabled
    _cache_enabled = not getattr(args, "no_cache", False) and not args.quick
    source_digest()  # now: the key must describe the sources this process imports, not later edits
    if args.out is None:
        args.out = Path(tempfile.mkdtemp(prefix="snnhw_bench_")) if args.quick else FIGURES
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    return args.out


# --------------------------------------------------------------------------
# Data and models
# --------------------------------------------------------------------------
def model_path(shared: Path, model: str) -> Path:
    return Path(shared) / "models" / f"{model}.onnx"


def ann_reference_accuracy(shared: Path, model: str) -> float:
    return json.loads((Path(shared) / "models" / f"{model}.onnx.json").read_text())["test_accuracy"]


def load_data(shared: Path, model: str, images: int | None = None, calib_size: int = CALIB_SIZE):
    """(x_test uint8 NCHW, y_test int64, x_calib uint8 NCHW) for ``model``'s data set.

    x_test is the first ``images`` test images (all by default); x_calib a
    fixed-seed random subset of ``calib_size`` training images.
    """
    z = np.load(Path(shared) / "data" / f"{MODEL_OF[model]}.npz")
    x_test, y_test = z["x_test"], z["y_test"].astype(np.int64)
    if images is not None:
        x_test, y_test = x_test[:images], y_test[:images]
    x_train = z["x_train"]
    idx = np.sort(np.random.default_rng(CALIB_SEED).choice(len(x_train), calib_size, replace=False))
    x_calib = x_train[idx]
    return _nchw(x_test), y_test, _nchw(x_calib)


def _nchw(x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        return np.ascontiguousarray(x[:, None])
    if x.shape[-1] in (1, 3):
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return np.ascontiguousarray(x)


def to_float(x_u8: np.ndarray) -> np.ndarray:
    """Model input: pixel / 255, float32 (what the ANN was trained on)."""
    return x_u8.astype(np.float32) * np.float32(1.0 / 255)


def torch_model(shared: Path, model: str, softmax: bool = True):
    """The reference network rebuilt in torch (nn.Sequential) from its .pt state dict, eval mode."""
    import torch
    from torch import nn

    layers = [getattr(nn, kind)(*a, **kw) for kind, a, kw in TORCH_DEFS[model]]
    net = nn.Sequential(*layers)
    net.load_state_dict(torch.load(Path(shared) / "models" / f"{model}.pt", map_location="cpu"))
    if not softmax:  # the logits; argmax is the same
        net = nn.Sequential(*list(net.children())[:-1])
    return net.eval()


# --------------------------------------------------------------------------
# Timing and bookkeeping
# --------------------------------------------------------------------------
def median_time(fn, repeats: int = 5, warmup: int = 1) -> tuple:
    """(median seconds, all samples) of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return float(np.median(samples)), samples


def environment() -> dict:
    info = dict(python=platform.python_version(), numpy=np.__version__, machine=platform.machine(),
                cpus=os.cpu_count(), date=datetime.datetime.now().isoformat(timespec="seconds"))
    try:
        info["cpu"] = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    try:
        info["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                     text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        info["load_average"] = os.getloadavg()
    except OSError:
        pass
    return info


def portable_paths(text: str, work: Path | None = None) -> str:
    """Paths in results relative to the repository (``../shared/…``, ``examples/…``), not this machine's;
    a benchmark's scratch directory (``work``, its ``--work``) becomes ``<work>``."""
    repo = Path(__file__).resolve().parents[1]
    if work is not None:  # the directory itself, not a longer name that starts like it
        for w in {str(Path(work).resolve()), str(work)}:
            text = re.sub(re.escape(w) + r'(?=[/\s"]|$)', "<work>", text)
    return text.replace(str(repo.parent / "shared"), "../shared").replace(str(repo) + "/", "")


def write_json(path: Path, data: dict, work: Path | None = None) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(portable_paths(json.dumps(data, indent=1, default=_jsonable), work))
    os.replace(tmp, path)
    print(f"wrote {path}")


def _jsonable(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o)}")


def command_line() -> str:
    return _COMMAND or " ".join(["python", *sys.argv])


def first_reaching(curve, fraction: float = 0.99):
    """Smallest T (1-based) from which accuracy stays >= fraction * final accuracy... first crossing."""
    final = curve[-1]
    for t, a in enumerate(curve, 1):
        if a >= fraction * final:
            return t
    return None


def savefig(fig, path: Path) -> None:
    tmp = Path(str(path) + ".partial.png")
    fig.savefig(tmp)
    os.replace(tmp, path)
    print(f"wrote {path}")


def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# --------------------------------------------------------------------------
# Conversion variants and simulation (all through snnhw's own modules)
# --------------------------------------------------------------------------
# --------------------------------------------------------------------------
# Curve cache: the same simulation (say p = 99.9, analog input, reset by
# subtraction) is a row of the ablation, a curve of Fig. 2b and snnhw's side
# of the SpikingJelly comparison; it is run once and reused.  The key holds the
# settings, digests of the test and calibration images, and a digest of the
# snnhw sources that decide a curve, so a change to the converter or the
# simulators recomputes.
# --------------------------------------------------------------------------
def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def array_digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return _digest(f"{a.dtype}{a.shape}".encode() + a.tobytes())


_SOURCE_DIGEST = None
SIM_SOURCES = ["ir.py", "pipeline.py", "data.py", "errors.py"]


def source_digest() -> str:
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        h = hashlib.sha256()
        # the code that decides a curve: import and conversion (frontend/), the simulators
        # (reference/) and SIM_SOURCES; not codegen, sim or synth
        files = [f for d in ("frontend", "reference") for f in sorted((REPO / "snnhw" / d).rglob("*.py"))]
        files += [REPO / "snnhw" / f for f in SIM_SOURCES]
        for f in files:
            h.update(str(f.relative_to(REPO)).encode() + f.read_bytes())
        _SOURCE_DIGEST = h.hexdigest()[:16]
    return _SOURCE_DIGEST


_BUSY = object()  # cached(wait=False): another process is computing this entry


def cached(kind: str, settings: dict, compute, label: str = "", snnhw_sources: bool = True, wait: bool = True):
    """``compute()`` (a dict of arrays), or its stored result for the same kind, settings and sources.

    ``snnhw_sources=False`` leaves snnhw's sources out of the key, for results
    that do not depend on them (SpikingJelly's curves). While another live
    process holds the entry's lock, wait for its result, or with
    ``wait=False`` return ``_BUSY`` at once.
    """
    source = source_digest() if snnhw_sources else None
    key = _digest(json.dumps(dict(kind=kind, settings=settings, source=source), sort_keys=True,
                             default=str).encode())
    path = CACHE / f"{kind}_{key}.npz"
    if not _cache_enabled:
        return compute()
    lock = path.with_suffix(".lock")
    CACHE.mkdir(parents=True, exist_ok=True)
    while True:
        if path.exists():
            log(f"  {kind}: reusing {path.relative_to(REPO)} ({label})")
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
        if _take_lock(lock):
            break
        if not wait:
            return _BUSY
        time.sleep(20)
    try:
        if path.exists():  # finished between our check and taking the lock
            lock.unlink(missing_ok=True)
            return cached(kind, settings, compute, label, snnhw_sources, wait)
        result = compute()
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **result)
        os.replace(tmp, path)
    finally:
        lock.unlink(missing_ok=True)
    return result


def _take_lock(lock: Path) -> bool:
    """Create ``lock`` atomically with our pid; clear it first if its owner died. False if a live process holds it."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if _pid_alive(lock):
                return False
            lock.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return True
    return False


CHUNK = 1000  # images per cache entry of a curve


def chunked_curve(kind: str, settings: dict, x, y, simulate, label: str = "", snnhw_sources: bool = True,
                  chunk: int = CHUNK) -> dict:
    """A curve over all of ``x`` from cached chunks of ``chunk`` images.

    ``simulate(x_chunk, y_chunk)`` returns a dict of per-chunk *sums*: ``hits``
    (correct images after every step, (T,)) and optionally other totals
    (synaptic operations). Each chunk is stored on its own, so a long run that
    is stopped resumes where it was, the first N images of a larger run reuse
    a run on N images, and several scripts needing one curve share its chunks:
    a chunk another process is simulating is skipped and collected at the end.
    Returns ``curve`` (accuracy after every step) and every other total
    divided by the number of images.
    """
    pending = list(range(0, len(x), chunk))
    totals = {}
    while pending:
        busy = []
        for s in pending:
            xc, yc = x[s:s + chunk], y[s:s + chunk]
            part = cached(kind, dict(settings, x=array_digest(xc), y=array_digest(yc)),
                          lambda: simulate(xc, yc), f"{label}, images {s}-{s + len(xc) - 1} of {len(x)}",
                          snnhw_sources, wait=False)
            if part is _BUSY:
                busy.append(s)
                continue
            if "hits" not in part:  # a whole-curve entry of the cache's first format (accuracies, not sums)
                raise RuntimeError(f"{label}: a {kind} entry in {CACHE} has no per-chunk sums; delete the cache")
            for k, v in part.items():
                totals[k] = totals[k] + v if k in totals else np.asarray(v)
        if busy and busy == pending:
            time.sleep(20)
        pending = busy
    return {("curve" if k == "hits" else k): v / len(x) for k, v in totals.items()}


def _pid_alive(lock: Path) -> bool:
    try:
        pid = lock.read_text()
        if not pid:  # just created, pid not yet written
            return time.time() - lock.stat().st_mtime < 60
        os.kill(int(pid), 0)
        return True
    except (OSError, ValueError):
        return False


class Converter:
    """One model's ANN, calibration set and cached λ per (percentile, per_channel).

    The stages are the ones ``snnhw.pipeline.compile_model`` chains
    (activation_lambdas → normalize → quantize); caching λ avoids re-running
    the calibration for every variant of the same normalization.
    """

    def __init__(self, shared: Path, model: str, calib_u8: np.ndarray):
        from snnhw.pipeline import import_model

        self.model = model
        self.path = model_path(shared, model)
        self.ann = import_model(self.path)
        self.calib = calib_u8
        self._lambdas = {}

    def lambdas(self, percentile: float | None, per_channel: bool = False) -> dict:
        """λ per weight layer; ``percentile=None`` means no normalization (every λ = 1)."""
        from snnhw.frontend.normalize import activation_lambdas

        key = (percentile, per_channel)
        if key not in self._lambdas:
            if percentile is None:
                idx = [i for i, l in enumerate(self.ann.layers) if type(l).__name__ in ("Conv", "Dense")]
                self._lambdas[key] = {i: 1.0 for i in idx}
            else:
                t0 = time.perf_counter()
                self._lambdas[key] = activation_lambdas(self.ann, to_float(self.calib), percentile, per_channel)
                log(f"  λ for p={percentile} per_channel={per_channel}: {time.perf_counter() - t0:.0f} s")
        return self._lambdas[key]

    def normalized(self, percentile: float | None, per_channel: bool = False):
        from snnhw.frontend.normalize import normalize

        return normalize(self.ann, self.lambdas(percentile, per_channel))

    def qnet(self, percentile: float, bits: int = 8, per_channel: bool = False, reset: str = "subtract",
             v_init: str = "zero", max_timesteps: int = 1024, per_channel_scales: bool | None = None):
        """Fixed-point network; ``per_channel`` is the normalization, ``per_channel_scales`` the
        quantization scales (default: the same as ``per_channel``, as ``compile_model`` does)."""
        from snnhw.frontend.quantize import quantize

        pcs = per_channel if per_channel_scales is None else per_channel_scales
        return quantize(self.normalized(percentile, per_channel), bits, per_channel=pcs, reset=reset,
                        v_init=v_init, max_timesteps=max_timesteps)

    def _settings(self, timesteps: int, **kw) -> dict:
        return dict(model=self.model, calib=array_digest(self.calib), timesteps=timesteps, **kw)

    def float_curve(self, x, y, timesteps: int, cfg, batch: int, label: str, percentile: float | None,
                    per_channel: bool = False) -> np.ndarray:
        """Accuracy after every step of the float SNN of this normalization (cached)."""
        settings = self._settings(timesteps, cfg=dataclasses.asdict(cfg), percentile=percentile,
                                  per_channel=per_channel)
        return chunked_curve("float", settings, x, y, lambda xc, yc: dict(hits=float_snn_hits(
            self.normalized(percentile, per_channel), xc, yc, timesteps, cfg, batch, label)), label)["curve"]

    def golden_curve(self, x, y, timesteps: int, batch: int, label: str, percentile: float, **qopts) -> tuple:
        """(accuracy after every step, synaptic operations (T, L)) of the golden model (cached);
        ``qopts`` go to :meth:`qnet`."""
        import inspect

        # every quantization option spelled out, so equal networks share a key however they were asked for
        bound = inspect.signature(self.qnet).bind(percentile, **qopts)
        bound.apply_defaults()
        q = dict(bound.arguments)
        if q["per_channel_scales"] is None:
            q["per_channel_scales"] = q["per_channel"]
        settings = self._settings(timesteps, **q)
        r = chunked_curve("golden", settings, x, y, lambda xc, yc: dict(zip(("hits", "synops"), golden_sums(
            self.qnet(percentile, **qopts), xc, yc, timesteps, batch, label))), label)
        return r["curve"], r["synops"]


def log(msg: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {msg}", flush=True)


def ann_accuracy(ann, x_u8: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    from snnhw.reference.ann import run_ann

    hits = 0
    for s in range(0, len(x_u8), batch):
        out = run_ann(ann, to_float(x_u8[s:s + batch]))
        hits += int((out.reshape(len(out), -1).argmax(1) == y[s:s + batch]).sum())
    return hits / len(x_u8)


def float_snn_hits(normalized, x_u8, y, timesteps: int, cfg, batch: int, label: str = "") -> np.ndarray:
    """Correctly classified images after every step 1..T of snnhw's float SNN (``run_float_snn``)."""
    from snnhw.reference.float_snn import run_float_snn

    hits = np.zeros(timesteps, np.int64)
    t0 = time.perf_counter()
    for s in range(0, len(x_u8), batch):
        classes = run_float_snn(normalized, to_float(x_u8[s:s + batch]), timesteps, cfg)
        hits += (classes == y[s:s + batch]).sum(axis=1)
        done = min(s + batch, len(x_u8))
        log(f"  {label} float {done}/{len(x_u8)}: acc@T {100 * hits[-1] / done:.2f}% ({time.perf_counter() - t0:.0f} s)")
    return hits


def golden_sums(qnet, x_u8, y, timesteps: int, batch: int, label: str = "") -> tuple:
    """(correct images after every step (T,), synaptic operations summed over the images (T, L)) of the golden model."""
    from snnhw.reference.golden import run_golden

    hits = np.zeros(timesteps, np.int64)
    synops = np.zeros((timesteps, len(qnet.layers)), np.float64)
    t0 = time.perf_counter()
    for s in range(0, len(x_u8), batch):
        g = run_golden(qnet, x_u8[s:s + batch], timesteps)
        hits += (g.classes == y[s:s + batch]).sum(axis=1)
        synops += g.synops
        done = min(s + batch, len(x_u8))
        log(f"  {label} golden {done}/{len(x_u8)}: acc@T {100 * hits[-1] / done:.2f}% ({time.perf_counter() - t0:.0f} s)")
    return hits, synops


def golden_curve(qnet, x_u8, y, timesteps: int, batch: int, label: str = "") -> tuple:
    """(accuracy after every step, synaptic operations per image per step and layer (T, L)) of the golden model."""
    hits, synops = golden_sums(qnet, x_u8, y, timesteps, batch, label)
    return hits / len(x_u8), synops / len(x_u8)


def binomial_se(acc: float, n: int) -> float:
    return float(np.sqrt(max(acc * (1 - acc), 1e-12) / n))


def run_logged(cmd, log: Path, cwd: Path) -> float:
    """Run ``cmd`` in ``cwd`` with its output appended to ``log``; its wall time in seconds. A failure stops
    the benchmark with the command and the log's path."""
    t0 = time.monotonic()
    with open(log, "a") as fh:
        fh.write("$ " + " ".join(map(str, cmd)) + "\n")
        fh.flush()
        proc = subprocess.run(list(map(str, cmd)), cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}; see {log}")
    return time.monotonic() - t0
