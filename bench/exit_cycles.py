"""Cycles per image with and without early exit, on the RTL (cocotb + Verilator).

--model example (default): the bundled example as ``bench/rtl_cycles.py`` builds it (8 bits,
calibrated on the first 2,000 training images, P = 16, T = --steps, default 16). --model mnist_paper:
../shared/models/mnist_paper.onnx (--shared) compiled as ``bench/early_exit.py`` compiles it for its
calibrated rules (8 bits, per-channel scales, v_init half, calibrated on the first 2,000 training
images, max_timesteps = T), P = 32, T = 10, margin 702 / min_steps 1 (docs/results.md's rule for
T = 10) unless given. The design is generated once with the early-exit rule (margin, min_steps) as the
build's default. The same build is simulated twice on the first --images test images, back to back
(no stream stalls): with cfg_exit_margin = 0 (no early exit, the old behaviour) and with the rule.
Both runs check every image bit for bit against the golden model (with the rule: exit step, classes
up to it, potentials after it == snnhw.reference.early_exit.exit_outputs). Each run also records its
image aborts: how many exited images were aborted and, per engine, the phase each abort found it in
(snnhw.sim.tb_snn).

Without --margin the smallest margin of a candidate list whose golden accuracy after the exit step
equals the accuracy after step T on these images is taken.

    python bench/exit_cycles.py --images 20 --steps 16 --out docs/figures/exit_cycles.json
    python bench/exit_cycles.py --model mnist_paper --images 20 --out docs/figures/exit_cycles_mnist_paper.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000)
# per model: parallelism, default steps, min_steps and margin (None: the smallest candidate keeping the accuracy)
MODELS = {"example": dict(parallelism=16, steps=16, min_steps=2, margin=None),
          "mnist_paper": dict(parallelism=32, steps=10, min_steps=1, margin=702)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(MODELS), default="example")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                    help="directory holding models/ and data/ (mnist_paper)")
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--margin", type=int, default=None)
    ap.add_argument("--min-steps", type=int, default=None)
    ap.add_argument("--work", type=Path, default=ROOT / "build/bench_exit")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    spec = MODELS[a.model]
    a.steps = a.steps or spec["steps"]
    a.min_steps = a.min_steps or spec["min_steps"]
    a.margin = spec["margin"] if a.margin is None else a.margin
    a.out = a.out or ROOT / "docs/figures" / ("exit_cycles.json" if a.model == "example"
                                              else f"exit_cycles_{a.model}.json")

    from snnhw.codegen import generate_design
    from snnhw.data import load_split, to_nchw
    from snnhw.pipeline import compile_model
    from snnhw.reference.early_exit import ExitRule, exit_outputs
    from snnhw.reference.golden import run_golden
    from snnhw.sim import run_sim

    if a.model == "example":
        data, onnx = ROOT / "examples/mnist_sample.npz", ROOT / "examples/mnist_small.onnx"
        opts = dict(max_timesteps=300)
    else:
        data, onnx = a.shared / "data/mnist.npz", a.shared / "models/mnist_paper.onnx"
        if not (data.exists() and onnx.exists()):
            print(f"SKIP: {a.shared} lacks models/mnist_paper.onnx or data/mnist.npz", file=sys.stderr)
            return 0
        opts = dict(per_channel=True, v_init="half", max_timesteps=a.steps)
    calib, _ = load_split(data, "train", 2000)
    q = compile_model(onnx, calib, bits=8, **opts).qnet
    x, y = load_split(data, "test", a.images)
    x = to_nchw(x, q.input_shape)
    golden = run_golden(q, x, a.steps)
    acc_T = float((golden.classes[-1] == y).mean())
    table = []
    for m in CANDIDATES:
        s, c, _ = exit_outputs(golden.potentials, ExitRule(m, a.min_steps))
        table.append(dict(margin=m, mean_exit_step=float(s.mean()), accuracy=float((c == y).mean())))
    margin = a.margin
    if margin is None:
        margin = next((r["margin"] for r in table if r["accuracy"] >= acc_T), CANDIDATES[-1])
    rule = ExitRule(margin, a.min_steps)
    steps, classes, _ = exit_outputs(golden.potentials, rule)

    out = a.work / f"{a.model}_exit"
    generate_design(q, out, parallelism=spec["parallelism"], timesteps=a.steps, test_images=x, test_labels=y,
                    source_note=onnx.name, exit_rule=rule)
    runs = {}
    for name, override in (("no_exit", 0), ("exit", None)):
        t0 = time.time()
        res = run_sim(out, n_images=len(x), stalls=False, extra=False, exit_margin=override)
        print(name, res.summary(), file=sys.stderr)
        runs[name] = dict(passed=bool(res.passed), mismatches=res.mismatches[:5],
                          cycles_per_image=res.cycles_per_image, latency_cycles=res.latency_cycles,
                          exit_steps=res.exit_steps, mean_exit_step=float(np.mean(res.exit_steps)),
                          accuracy=float((np.array(res.final_classes) == y).mean()), sim_seconds=time.time() - t0,
                          aborts=getattr(res, "aborts", {}).get("back-to-back", dict(images=0, phases={})))
    report = dict(
        model="mnist_small (bundled example)" if a.model == "example" else a.model, bits=8,
        compile=dict(opts, calibration_images=2000), parallelism=spec["parallelism"], images=int(len(x)),
        timesteps=a.steps,
        cycles_timed_in="back-to-back (no stream stalls)", rule=dict(margin=margin, min_steps=a.min_steps),
        golden_accuracy_after_T=acc_T, golden_accuracy_after_exit=float((classes == y).mean()),
        golden_mean_exit_step=float(steps.mean()), margin_candidates=table, runs=runs,
        speedup=(runs["no_exit"]["cycles_per_image"] / runs["exit"]["cycles_per_image"]
                 if runs["exit"]["cycles_per_image"] else None),
    )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "margin_candidates"}, indent=2))
    return 0 if all(r["passed"] for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
