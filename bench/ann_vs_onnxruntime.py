"""Our float ANN (import + passes + NumPy executor) against onnxruntime on whole test sets.

    python bench/ann_vs_onnxruntime.py            # mnist_paper (10,000) and cifar10_paper (1,000), every export
    python bench/ann_vs_onnxruntime.py --quick    # 500 images

Writes docs/figures/ann_vs_onnxruntime.json: accuracy of both, the number of
images whose class differs, and the largest output difference.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CASES = [("mnist_paper", "mnist.npz"), ("cifar10_paper", "cifar10.npz")]
VARIANTS = ("onnx", "fused.onnx", "dynamo.onnx")


def compare(model: Path, data: Path, limit: int | None) -> dict:
    import onnxruntime as ort

    from snnhw.data import load_split, to_nchw
    from snnhw.reference.ann import run_ann
    from snnhw.pipeline import import_model, model_input

    net = import_model(model)
    x, y = load_split(data, "test", limit)
    x = model_input(to_nchw(x, net.input_shape))
    ours = run_ann(net, x).reshape(len(x), -1)
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    batch = 1 if sess.get_inputs()[0].shape[0] == 1 else 500  # the dynamo export fixes batch 1
    ref = np.concatenate([sess.run(None, {name: x[i:i + batch]})[0] for i in range(0, len(x), batch)])
    if net.softmax:  # our executor stops before the removed softmax; compare probabilities
        e = np.exp(ours - ours.max(1, keepdims=True))
        ours = e / e.sum(1, keepdims=True)
    return dict(model=model.name, images=len(x), ours_accuracy=float((ours.argmax(1) == y).mean()),
                onnxruntime_accuracy=float((ref.argmax(1) == y).mean()),
                class_differs=int((ours.argmax(1) != ref.argmax(1)).sum()),
                max_abs_diff=float(np.abs(ours - ref).max()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--out", type=Path, default=ROOT / "docs/figures/ann_vs_onnxruntime.json")
    args = ap.parse_args(argv)
    rows = []
    for stem, data in CASES:
        for variant in VARIANTS:
            model = args.shared / "models" / f"{stem}.{variant}"
            if not model.exists():
                print(f"skipping {model}: not found", file=sys.stderr)
                continue
            row = compare(model, args.shared / "data" / data, 500 if args.quick else None)
            print(f"{row['model']:<28} {row['images']:>6} images: ours {100 * row['ours_accuracy']:.2f}%  "
                  f"onnxruntime {100 * row['onnxruntime_accuracy']:.2f}%  classes differ: {row['class_differs']}  "
                  f"max |diff| {row['max_abs_diff']:.2e}", flush=True)
            rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(dict(command="python bench/ann_vs_onnxruntime.py"
                                        + (" --quick" if args.quick else ""), rows=rows), indent=1))
    return 0 if all(r["ours_accuracy"] == r["onnxruntime_accuracy"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
