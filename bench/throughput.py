"""Images per second of a generated accelerator: RTL cycles, Fmax, golden accuracy, against the bound.

    python bench/throughput.py --model ../shared/models/mnist_paper.onnx --data ../shared/data/mnist.npz \\
        --images 200 --json docs/figures/throughput_mnist_paper.json \\
        --per-channel --v-init half -T 10 --exit-margin 702 --exit-min-steps 1 -P auto --device LFE5U-85F

Runs, and records in the JSON (``command``, ``commands``):

1. ``snnhw generate MODEL --calib DATA --test-data DATA --test-images N --test-steps T ...`` with the
   design options given (bits, normalization, T, early-exit rule, lanes);
2. the RTL in cocotb + Verilator on the first N test images back to back (``snnhw sim BUILD --images N
   --no-stalls --no-extra``): every image's exit step, classes up to it and potentials after it ``==``
   the golden model's (the testbench's check, and again here against
   ``snnhw.reference.early_exit.exit_outputs``); cycles per image = total cycles / N;
3. ``snnhw synth BUILD --device DEVICE --seed S`` for each seed (nextpnr-ecp5, speed grade 8): Fmax
   per seed and their median; each seed in its own copy of the build directory, ``--synth-jobs`` of
   them at a time, running beside the simulation (wall time only; the results are the same). Yosys
   runs once, for the first seed; the others place and route its netlist (``--pnr-only``) from the
   moment it is written, beside the first seed's nextpnr;
4. the golden model of the same build (``BUILD/model.snn.npz``) with the same rule on all test images
   (``--accuracy-images``): accuracy and mean steps run;
5. the bound (docs/hardware.md, "Throughput bound"; ``snnhw.codegen.cycles``) over the steps the N
   images run, and the cycle model's estimate.

``images_per_s`` = median Fmax / cycles per image. ``--no-synth`` skips step 3 (no ``images_per_s``;
``bench/throughput_plot.py --fmax-from`` can lend such a run another build's Fmax, and says so).
``--reuse-synth`` resumes an interrupted run: a seed whose copy in ``--work`` already holds its result,
from the same RTL and memory files as this run's build, is not run again (``"reused": true`` in ``seeds``).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import portable_paths, run_logged, write_json  # noqa: E402

SNNHW = [sys.executable, "-m", "snnhw.cli"]


def golden_accuracy(build: Path, data: Path, timesteps: int, rule, limit: int | None, batch: int = 500) -> dict:
    """The build's own QNetwork with the build's rule on the test set: accuracy and steps run."""
    from snnhw.data import load_split, to_nchw
    from snnhw.frontend.qformat import load_qnet
    from snnhw.reference.early_exit import exit_outputs
    from snnhw.reference.golden import run_golden

    q = load_qnet(build / "model.snn.npz")
    x, y = load_split(data, "test", limit)
    x = to_nchw(x, q.input_shape, str(data))
    hits, steps = 0, []
    for a in range(0, len(x), batch):
        g = run_golden(q, x[a:a + batch], timesteps)
        s, c, _ = exit_outputs(g.potentials, rule)
        hits += int((c == y[a:a + batch]).sum())
        steps.append(s + 1)
        print(f"  golden {min(a + batch, len(x))}/{len(x)}: {hits / (a + len(c)):.4f}", file=sys.stderr, flush=True)
    steps = np.concatenate(steps)
    return dict(images=int(len(x)), accuracy=hits / len(x), mean_steps=float(steps.mean()),
                max_steps=int(steps.max()))


def image_intervals(ends, exit_steps) -> dict | None:
    """Cycles between consecutive images' last beats (the first image: from its first pixel), grouped by
    the steps the image ran: {steps: {"images": n, "mean_cycles": c}}. Where an image's cycles go: its
    first step crosses every engine, each further step adds about the busiest engine's step."""
    if not ends:
        return None
    groups = {}
    for n, (end, e) in enumerate(zip(ends, exit_steps)):
        groups.setdefault(int(e) + 1, []).append(end - (ends[n - 1] if n else 0))
    return {str(k): dict(images=len(v), mean_cycles=float(np.mean(v))) for k, v in sorted(groups.items())}


def wait_for_netlist(first_copy: Path, first_run, poll_s: float = 5.0) -> None:
    """Until the first seed's Yosys has written its netlist: its nextpnr has started (``snnhw synth``
    starts nextpnr only after Yosys, in a copy that had no ``synth/``), or its whole run has ended."""
    while not first_run.done() and not (first_copy / "synth" / "ecp5" / "nextpnr.log").exists():
        time.sleep(poll_s)


def same_design(build: Path, copy: Path) -> bool:
    """``copy`` (a seed's copy of a build) holds the same RTL and memory files as ``build``."""
    def files(d: Path) -> dict:
        return {p.relative_to(d): p.read_bytes() for sub in ("rtl", "mem") for p in sorted((d / sub).rglob("*"))
                if p.is_file()}
    return files(build) == files(copy)


def synth_result(seed: int, copy: Path, seconds, reused: bool) -> dict:
    r = json.loads((copy / "synth_ecp5.json").read_text())
    return dict(seed=seed, fmax_mhz=r.get("fmax_mhz"), luts=r["luts"], ffs=r["ffs"], bram=r["bram"],
                dsp=r["dsp"], fits=r["fits"], seconds=seconds, reused=reused, dir=copy)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True, help=".npz: calibration (x_train) and test images")
    ap.add_argument("--images", type=int, default=200, help="test images simulated in RTL")
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--bits", type=int, default=8)
    ap.add_argument("--per-channel", action="store_true")
    ap.add_argument("--v-init", choices=["zero", "half"], default="zero")
    ap.add_argument("-T", "--timesteps", type=int, default=10)
    ap.add_argument("--exit-margin", type=int, default=0)
    ap.add_argument("--exit-min-steps", type=int, default=1)
    ap.add_argument("-P", "--parallelism", default="8")
    ap.add_argument("--device", default="LFE5U-85F")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--synth-jobs", type=int, default=2, help="synthesis seeds run at a time [2]")
    ap.add_argument("--router", choices=["router1", "router2"], default=None,
                    help="nextpnr's router (snnhw synth --router) [nextpnr's default]")
    ap.add_argument("--accuracy-images", type=int, default=None, help="golden accuracy on the first N [all]")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "bench_throughput")
    ap.add_argument("--reuse-synth", action="store_true",
                    help="keep a seed's result from an earlier run in --work when its copy of the build has the "
                         "same RTL and memory files (a run resumed after an interruption); the JSON says which")
    a = ap.parse_args(argv)

    from snnhw.codegen.cycles import cycle_model
    from snnhw.codegen.layout import par_spec, plan_design
    from snnhw.data import load_split, to_nchw
    from snnhw.frontend.qformat import load_qnet
    from snnhw.reference.early_exit import ExitRule, exit_outputs
    from snnhw.reference.golden import run_golden
    from snnhw.sim import run_sim

    name = a.json.stem
    build = a.work / name
    log = a.work / f"{name}.log"
    a.work.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    rule = ExitRule(a.exit_margin, a.exit_min_steps)
    T = a.timesteps

    gen = [*SNNHW, "generate", a.model, "--calib", a.data, "--bits", a.bits, "-T", T, "--test-data", a.data,
           "--test-images", a.images, "--test-steps", T, "-P", a.parallelism, "--exit-margin", a.exit_margin,
           "--v-init", a.v_init, "-o", build]
    if a.exit_margin:
        gen[-2:-2] = ["--exit-min-steps", a.exit_min_steps]
    if a.per_channel:
        gen.append("--per-channel")
    if a.parallelism == "auto":
        gen += ["--device", a.device]
    print(f"[{name}] generate ...", file=sys.stderr, flush=True)
    secs = {"generate": run_logged(gen, log, REPO)}
    manifest = json.loads((build / "manifest.json").read_text())

    router = ["--router", a.router] if a.router else []

    def synth(seed, first=None):
        """The first seed runs Yosys and nextpnr; the others wait for its Yosys and place its netlist again."""
        copy = a.work / f"{name}_seed{seed}"
        if a.reuse_synth and (copy / "synth_ecp5.json").exists() and same_design(build, copy):
            print(f"[{name}] synth seed {seed}: kept from {copy} (--reuse-synth)", file=sys.stderr, flush=True)
            return synth_result(seed, copy, seconds=None, reused=True)
        shutil.rmtree(copy, ignore_errors=True)
        cmd = [*SNNHW, "synth", copy, "--device", a.device, "--seed", seed, *router]
        if first is None:
            shutil.copytree(build, copy, ignore=shutil.ignore_patterns("sim", "sim_build", "synth"))
        else:
            first_copy = a.work / f"{name}_seed{a.seeds[0]}"
            wait_for_netlist(first_copy, first)
            shutil.copytree(first_copy, copy, ignore=shutil.ignore_patterns("synth_*.json"))
            cmd.append("--pnr-only")
        print(f"[{name}] synth seed {seed} ...", file=sys.stderr, flush=True)
        secs = run_logged(cmd, a.work / f"{name}_seed{seed}.log", REPO)
        return synth_result(seed, copy, seconds=secs, reused=False)

    pool = ThreadPoolExecutor(max_workers=max(1, a.synth_jobs))
    synth_runs = []
    if not a.no_synth:
        synth_runs.append(pool.submit(synth, a.seeds[0]))
        synth_runs += [pool.submit(synth, seed, synth_runs[0]) for seed in a.seeds[1:]]

    # RTL, back to back, every image checked by the testbench; the exits again here
    print(f"[{name}] RTL simulation of {a.images} images ...", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    res = run_sim(build, n_images=a.images, stalls=False, extra=False)
    secs["sim"] = time.monotonic() - t0
    q = load_qnet(build / "model.snn.npz")
    x, y = load_split(a.data, "test", a.images)
    x = to_nchw(x, q.input_shape, str(a.data))
    g = run_golden(q, x, T, record_spikes=True)
    steps, classes, _ = exit_outputs(g.potentials, rule)
    rtl_equals = bool(res.passed and res.exit_steps == [int(s) for s in steps]
                      and res.final_classes == [int(c) for c in classes])
    print(f"[{name}] {res.summary()}", file=sys.stderr, flush=True)

    intervals = image_intervals(res.passes.get("back-to-back", {}).get("image_end_cycles"), steps)
    plan = plan_design(q, {int(r["index"]): (int(r["parallelism"]), int(r.get("columns") or 1))
                           for r in manifest["layers"] if r.get("parallelism")}, timesteps=T)
    cm = cycle_model(plan, q, g.spikes, x, T, exit_steps=steps)

    seeds = [{k: v for k, v in run.result().items() if k != "dir"} for run in synth_runs]
    pool.shutdown()
    fmax = [s["fmax_mhz"] for s in seeds if s["fmax_mhz"]]
    fmax_med = statistics.median(fmax) if fmax else None
    fmax_source = "this build, nextpnr seeds " + " ".join(map(str, a.seeds)) if fmax else None

    print(f"[{name}] golden accuracy ...", file=sys.stderr, flush=True)
    acc = golden_accuracy(build, a.data, T, rule, a.accuracy_images)
    cyc = res.cycles_per_image
    report = dict(
        model=portable_paths(str(a.model)), data=portable_paths(str(a.data)),
        options=dict(bits=a.bits, per_channel=a.per_channel, v_init=a.v_init, timesteps=T,
                     exit_margin=a.exit_margin, exit_min_steps=a.exit_min_steps, parallelism=a.parallelism,
                     device=a.device, router=a.router,
                     lanes={r["name"]: par_spec(r["parallelism"], r.get("columns") or 1) for r in manifest["layers"]
                            if r.get("parallelism")}),
        images_per_s=(fmax_med * 1e6 / cyc) if fmax_med and cyc else None,
        fmax_mhz_median=fmax_med, fmax_source=fmax_source, cycles_per_image=cyc, cycles_timed="back-to-back, no stream stalls",
        rtl_images=a.images, rtl_equals_golden=rtl_equals, rtl_mismatches=res.mismatches[:5],
        mean_steps=float((steps + 1).mean()), accuracy_golden=acc["accuracy"], accuracy_images=acc["images"],
        mean_steps_accuracy_images=acc["mean_steps"],
        bound_cycles=cm["bound_cycles"], bound_engine=cm["bound_engine"],
        cycles_over_bound=(cyc / cm["bound_cycles"]) if cyc else None,
        model_cycles=cm["throughput_cycles_per_image"], model_bottleneck=cm["bottleneck"],
        intervals_by_steps=intervals,
        engines=cm["layers"], resources=seeds[0] if seeds else None, seeds=seeds, seconds=secs,
        command=portable_paths(" ".join(["python", "bench/throughput.py", *map(str, argv or sys.argv[1:])])),
        commands=[portable_paths(" ".join(["snnhw", *map(str, gen[len(SNNHW):])])),
                  portable_paths(f"snnhw sim {build} --images {a.images} --no-stalls --no-extra"),
                  *(portable_paths(" ".join(["snnhw synth", str(build), "--device", a.device, "--seed", str(s),
                                             *router, *(["--pnr-only"] if s != a.seeds[0] else [])]))
                    for s in a.seeds)],
    )
    write_json(a.json, report, work=a.work)
    print(json.dumps({k: v for k, v in report.items() if k not in ("engines", "seeds")}, indent=1))
    return 0 if rtl_equals else 1


if __name__ == "__main__":
    sys.exit(main())
