"""Cycles per image with and without early exit, on the RTL (cocotb + Verilator), bundled example.

The example as ``bench/rtl_cycles.py`` builds it (8 bits, calibrated on the first 2,000 training
images, P = 16, T = --steps), generated once with the early-exit rule (margin, min_steps) as the
build's default. The same build is simulated twice on the first --images test images, back to back
(no stream stalls): with cfg_exit_margin = 0 (no early exit, the old behaviour) and with the rule.
Both runs check every image bit for bit against the golden model (with the rule: exit step, classes
up to it, potentials after it == snnhw.reference.early_exit.exit_outputs). Each run also records its
image aborts: how many exited images were aborted and, per engine, the phase each abort found it in
(snnhw.sim.tb_snn).

Without --margin the smallest margin of a candidate list whose golden accuracy after the exit step
equals the accuracy after step T on these images is taken.

    python bench/exit_cycles.py --images 20 --steps 16 --out docs/figures/exit_cycles.json
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--margin", type=int, default=None)
    ap.add_argument("--min-steps", type=int, default=2)
    ap.add_argument("--work", type=Path, default=ROOT / "build/bench_exit")
    ap.add_argument("--out", type=Path, default=ROOT / "docs/figures/exit_cycles.json")
    a = ap.parse_args(argv)

    from snnhw.codegen import generate_design
    from snnhw.data import load_split, to_nchw
    from snnhw.pipeline import compile_model
    from snnhw.reference.early_exit import ExitRule, exit_outputs
    from snnhw.reference.golden import run_golden
    from snnhw.sim import run_sim

    data = ROOT / "examples/mnist_sample.npz"
    calib, _ = load_split(data, "train", 2000)
    q = compile_model(ROOT / "examples/mnist_small.onnx", calib, bits=8, max_timesteps=300).qnet
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

    out = a.work / "example_exit"
    generate_design(q, out, parallelism=16, timesteps=a.steps, test_images=x, test_labels=y,
                    source_note="examples/mnist_small.onnx", exit_rule=rule)
    runs = {}
    for name, override in (("no_exit", 0), ("exit", None)):
        t0 = time.time()
        res = run_sim(out, n_images=len(x), stalls=False, extra=False, exit_margin=override)
        print(name, res.summary(), file=sys.stderr)
        runs[name] = dict(passed=bool(res.passed), mismatches=res.mismatches[:5],
                          cycles_per_image=res.cycles_per_image, latency_cycles=res.latency_cycles,
                          exit_steps=res.exit_steps, mean_exit_step=float(np.mean(res.exit_steps)),
                          accuracy=float((np.array(res.final_classes) == y).mean()), sim_seconds=time.time() - t0,
                          aborts=res.aborts.get("back-to-back", dict(images=0, phases={})))
    report = dict(
        model="mnist_small (bundled example)", bits=8, parallelism=16, images=int(len(x)), timesteps=a.steps,
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
