"""run_sim: build a generated design with Verilator (cached) and run the cocotb bench."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from snnhw.codegen.manifest import load_manifest
from snnhw.sim.tools import ToolError, apply_verilator_env


@dataclass
class SimResult:
    passed: bool
    images: int
    timesteps: int
    cycles_per_image: float | None  # throughput (total cycles / images) of the pass `cycles_pass`
    latency_cycles: float | None  # first image: first pixel offered -> last output beat
    interval_cycles: float | None  # steady state: between consecutive images' last beats
    cycles_pass: str = "back-to-back"  # the pass timed: "back-to-back", or "stalls" (random valid/ready stalls)
    mismatches: list = field(default_factory=list)
    first_tap_mismatch: dict | None = None
    passes: dict = field(default_factory=dict)
    final_classes: list = field(default_factory=list)  # RTL's class after the exit step, per image (first pass)
    exit_steps: list = field(default_factory=list)  # RTL's exit step (class beats - 1), per image (first pass)
    exit_rules: list = field(default_factory=list)  # [margin, min_steps] driven (image n: rule n mod len)
    # per pass: image aborts ("images") and, per engine, the phase each abort found it in ("phases")
    aborts: dict = field(default_factory=dict)
    results_file: str = ""
    log_file: str = ""

    def summary(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        s = (f"{status}: {self.images} image(s) x {self.timesteps} steps, every class and final potential "
             f"{'==' if self.passed else '!='} golden")
        if any(m for m, _ in self.exit_rules) and self.exit_steps:
            rules = ", ".join(f"margin {m} min_steps {k}" for m, k in self.exit_rules)
            s += (f"; early exit ({rules}): mean exit step {sum(self.exit_steps) / len(self.exit_steps):.2f} "
                  f"(0-based, of {self.timesteps})")
            aborted = (self.aborts.get(self.cycles_pass) or {}).get("images")
            if aborted is not None:
                s += f", {aborted} image aborts in the {self.cycles_pass} pass"
        if self.cycles_per_image is not None:
            how = "back-to-back" if self.cycles_pass == "back-to-back" else "with random stream stalls"
            s += f"; {self.cycles_per_image:.0f} cycles/image {how}"
        if self.latency_cycles is not None:
            s += f", first-image latency {self.latency_cycles:.0f} cycles"
        for m in self.mismatches[:10]:
            s += "\n  " + m
        return s


def _sources(build_dir: Path, manifest=None) -> list:
    """The design's RTL and simulation RTL, as the manifest lists them (checked to exist)."""
    manifest = manifest or load_manifest(build_dir)
    manifest.require_files(build_dir, "rtl", "sim_rtl")
    return manifest.rtl_paths(build_dir) + manifest.sim_rtl_paths(build_dir)


def _stamp(sources, defines) -> str:
    h = hashlib.sha256()
    for p in sources:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(json.dumps(sorted(defines.items())).encode())
    return h.hexdigest()


RUNTIME_OBJECTS = ("verilated", "verilated_dpi", "verilated_vpi", "verilated_threads")


def _runtime_cache() -> Path:
    """Per-user cache of Verilator's design-independent runtime objects (they take most of a build)."""
    import cocotb

    from snnhw.sim.tools import verilator_root

    root = verilator_root()
    key = hashlib.sha256(f"{root}|{cocotb.__version__}|{os.environ.get('MAKEFLAGS', '')}".encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "snnhw" / f"verilator-rt-{key}"
    return base


def _seed_runtime(sim_build: Path) -> None:
    cache = _runtime_cache()
    if not all((cache / f"{n}.o").exists() for n in RUNTIME_OBJECTS):
        return
    sim_build.mkdir(parents=True, exist_ok=True)
    # verilated.mk makes these objects depend on Vtop.mk, which Verilator
    # rewrites on every run: date the copies an hour ahead so make keeps them
    future = time.time() + 3600
    for n in RUNTIME_OBJECTS:
        for ext in (".o", ".d"):
            src = cache / f"{n}{ext}"
            if src.exists():
                shutil.copy(src, sim_build / f"{n}{ext}")
                os.utime(sim_build / f"{n}{ext}", (future, future))


def _save_runtime(sim_build: Path) -> None:
    cache = _runtime_cache()
    if all((cache / f"{n}.o").exists() for n in RUNTIME_OBJECTS):
        return
    try:
        tmp = Path(tempfile.mkdtemp(prefix=cache.name, dir=cache.parent if cache.parent.exists() else None))
        for n in RUNTIME_OBJECTS:
            for ext in (".o", ".d"):
                if (sim_build / f"{n}{ext}").exists():
                    shutil.copy(sim_build / f"{n}{ext}", tmp / f"{n}{ext}")
        cache.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, cache)
    except OSError:
        pass  # the cache is an optimisation only


def build(build_dir, taps: bool = False, verbose: bool = False) -> Path:
    """Verilate the design (once per build dir and variant); returns the simulator build dir."""
    from cocotb_tools.runner import get_runner

    build_dir = Path(build_dir).resolve()
    manifest = load_manifest(build_dir)
    top = manifest.sim_top
    apply_verilator_env()
    variant = "taps" if taps else "plain"
    sim_build = build_dir / "sim_build" / variant
    sources = _sources(build_dir, manifest)
    # simulation assertions (snn_fifo: a producer beyond its credit) are always on in simulation
    defines = {"SNNHW_ASSERT": 1, **({"SNNHW_TAPS": 1} if taps else {})}
    stamp = _stamp(sources, defines)
    stamp_file = sim_build / "snnhw.stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp and (sim_build / top).exists():
        return sim_build
    runner = get_runner("verilator")
    _seed_runtime(sim_build)
    log = build_dir / "sim" / f"build_{variant}.log"
    log.parent.mkdir(exist_ok=True)
    for attempt in range(2):  # a parallel make of Verilator's precompiled header occasionally races
        try:
            runner.build(sources=[str(s) for s in sources], hdl_toplevel=top, build_dir=str(sim_build),
                         defines=defines, build_args=["-O2", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal"],
                         timescale=("1ns", "1ps"), always=True, clean=attempt > 0, verbose=verbose,
                         log_file=str(log))
            break
        except (SystemExit, Exception) as exc:  # the runner exits on tool errors
            if attempt:
                raise ToolError(f"Verilator build failed (see {log}): {exc}") from None
    stamp_file.write_text(stamp)
    _save_runtime(sim_build)
    return sim_build


def run_sim(build_dir, n_images: int | None = None, seed: int = 0, taps: bool = False, stalls: bool = True,
            extra: bool = True, verbose: bool = False, exit_margin: int | None = None,
            exit_min_steps: int | None = None, exit_vary: bool = False) -> SimResult:
    """Simulate a generated design against its golden vectors.

    Runs the cocotb bench (``snnhw.sim.tb_snn``) on Verilator: the test images
    with random valid/ready stalls on both AXI streams (``stalls``), then (with
    ``extra``) back to back without pauses and with a reset in the middle of
    an image. With ``taps`` the design is built with SNNHW_TAPS and every
    layer's spikes are compared too, up to each image's exit step (after it an image abort drops work
    wherever it finds it; ``SimResult.aborts`` counts the aborts). ``exit_margin`` / ``exit_min_steps`` override the build's
    early-exit rule (manifest ``exit``) on cfg_exit_*; ``exit_vary`` gives consecutive images different
    rules (see ``snnhw.sim.tb_snn``). Each image's exit step, classes up to it and potentials after it
    are compared with the golden model's. Returns a :class:`SimResult`.
    """
    from cocotb_tools.runner import get_runner

    build_dir = Path(build_dir).resolve()
    manifest = load_manifest(build_dir, require=("rtl", "sim_rtl", "mem", "vectors"))
    sim_build = build(build_dir, taps=taps, verbose=verbose)
    out = build_dir / "sim"
    out.mkdir(exist_ok=True)
    tag = f"{'taps' if taps else 'plain'}_{os.getpid()}"
    results = out / f"results_{tag}.json"
    taps_file = out / f"taps_{tag}.log"
    log = out / f"sim_{tag}.log"
    for p in (results, taps_file):
        if p.exists():
            p.unlink()
    env = {
        "SNNHW_BUILD_DIR": str(build_dir), "SNNHW_RESULTS": str(results), "SNNHW_SEED": str(seed),
        "SNNHW_STALLS": "1" if stalls else "0", "SNNHW_EXTRA": "1" if extra else "0",
        "SNNHW_IMAGES": "" if n_images is None else str(int(n_images)),
        "SNNHW_TAPS_FILE": str(taps_file) if taps else "",
        "SNNHW_EXIT_MARGIN": "" if exit_margin is None else str(int(exit_margin)),
        "SNNHW_EXIT_MIN_STEPS": "" if exit_min_steps is None else str(int(exit_min_steps)),
        "SNNHW_EXIT_VARY": "1" if exit_vary else "0",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2])] + sys.path),
    }
    runner = get_runner("verilator")
    try:
        runner.test(test_module="snnhw.sim.tb_snn", hdl_toplevel=manifest.sim_top, hdl_toplevel_lang="verilog",
                    build_dir=str(sim_build),
                    test_dir=str(build_dir), extra_env=env, results_xml=str(out / f"results_{tag}.xml"),
                    plusargs=[f"+taps_file={taps_file}"] if taps else [], seed=seed, log_file=str(log),
                    verbose=verbose)
    except (SystemExit, Exception) as exc:  # a failing cocotb test also lands here; results tell
        if not results.exists():
            raise ToolError(f"simulation failed to run (see {log}): {exc}") from None
    if not results.exists():
        raise ToolError(f"simulation produced no results (see {log})")
    r = json.loads(results.read_text())
    os.replace(results, out / "results.json")
    passes = r.get("passes", {})
    timed = "back-to-back" if "back-to-back" in passes else "stalls"  # stalled timings include the stalls
    b2b = passes.get(timed) or {}
    res = SimResult(passed=bool(r["passed"]), images=r["images"], timesteps=r["timesteps"],
                    cycles_per_image=b2b.get("cycles_per_image"), latency_cycles=b2b.get("latency_first_image"),
                    interval_cycles=b2b.get("interval_cycles"), cycles_pass=timed, mismatches=r.get("mismatches", []),
                    first_tap_mismatch=r.get("first_tap_mismatch"), passes=passes,
                    final_classes=(passes.get("stalls") or b2b).get("final_classes", []),
                    exit_steps=r.get("exit_steps", {}).get("stalls" if "stalls" in passes else timed, []),
                    exit_rules=r.get("exit_rules", []), aborts=r.get("aborts", {}),
                    results_file=str(out / "results.json"), log_file=str(log))
    return res
