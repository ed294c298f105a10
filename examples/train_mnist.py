#!/usr/bin/env python
"""Train the bundled default example: a small MNIST CNN, exported to ONNX.

This script makes the files in ``examples/``:

* ``mnist_small.onnx`` -- the trained network, exported with PyTorch's legacy
  (TorchScript) ONNX exporter, opset 13, batch-norm nodes kept (no constant
  folding), input ``input`` of shape (batch, 1, 28, 28) float32 holding
  pixels scaled x/255, output ``logits`` of shape (batch, 10) (no softmax).
* ``mnist_small.json`` -- metadata: model file, data set, test accuracy on
  all 10,000 MNIST test images (computed by torch), epochs, opset, seed.
* ``mnist_sample.npz`` -- a small cut of MNIST (< 1 MB) shipped with the repo:
  ``x_train``/``y_train`` = the first 50 training images of each class
  (500, in original order), ``x_test``/``y_test`` = the first 200 test
  images; uint8, images (N, 28, 28).

Network (bias=True everywhere)::

    Conv2d(1, 8, 3, padding=1)  BatchNorm2d(8)  ReLU  MaxPool2d(2)
    Conv2d(8, 16, 3, padding=1) BatchNorm2d(16) ReLU  MaxPool2d(2)
    Flatten  Linear(16*7*7, 10)

Training: Adam (lr 1e-3), batch 128, 3 epochs, seed 0 (torch and numpy),
torch limited to 2 threads. Takes about a minute or two on 2 cores.

Usage (from the repo root; needs the ``train`` extra, i.e. torch==2.13.0)::

    .venv/bin/python examples/train_mnist.py                # train + export + sample
    .venv/bin/python examples/train_mnist.py --sample-only  # only mnist_sample.npz

Options: ``--data PATH`` (default ``../shared/data/mnist.npz`` relative to the
repo root; keys x_train/y_train/x_test/y_test, uint8 28x28), ``--out-dir``
(default ``examples/``), ``--epochs``, ``--seed``, ``--batch-size``, ``--lr``.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import click
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = REPO_ROOT / "examples"
DEFAULT_DATA_REL = "../shared/data/mnist.npz"  # relative to the repo root
DEFAULT_DATA = REPO_ROOT / DEFAULT_DATA_REL

MODEL_NAME = "mnist_small.onnx"
META_NAME = "mnist_small.json"
SAMPLE_NAME = "mnist_sample.npz"
OPSET = 13
SAMPLE_PER_CLASS = 50
SAMPLE_TEST = 200


def load_mnist(path: Path) -> dict[str, np.ndarray]:
    """Load the four uint8 arrays of an MNIST npz."""
    with np.load(path) as d:
        data = {k: d[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    for k in data:
        if data[k].dtype != np.uint8:
            raise click.ClickException(f"{path}: {k} has dtype {data[k].dtype}, expected uint8")
    return data


def make_sample(data: dict[str, np.ndarray], out_path: Path) -> dict[str, np.ndarray]:
    """Write the small, class-balanced MNIST cut (first 50 train images per class,
    first 200 test images) as a compressed npz; return its arrays."""
    y_train = data["y_train"]
    idx = np.sort(np.concatenate(
        [np.flatnonzero(y_train == c)[:SAMPLE_PER_CLASS] for c in range(10)]))
    sample = {
        "x_train": np.ascontiguousarray(data["x_train"][idx], dtype=np.uint8),
        "y_train": np.ascontiguousarray(y_train[idx], dtype=np.uint8),
        "x_test": np.ascontiguousarray(data["x_test"][:SAMPLE_TEST], dtype=np.uint8),
        "y_test": np.ascontiguousarray(data["y_test"][:SAMPLE_TEST], dtype=np.uint8),
    }
    assert sample["x_train"].shape == (10 * SAMPLE_PER_CLASS, 28, 28)
    assert np.all(np.bincount(sample["y_train"], minlength=10) == SAMPLE_PER_CLASS)
    np.savez_compressed(out_path, **sample)
    size = out_path.stat().st_size
    click.echo(f"wrote {out_path} ({size / 1024:.1f} KiB)")
    if size >= 1 << 20:
        raise click.ClickException(f"{out_path} is {size} bytes, must be < 1 MB")
    return sample


def build_model():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=True),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=True),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 10, bias=True),
    )


def to_input(x_uint8: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) scaled x/255."""
    return (x_uint8.astype(np.float32) / 255.0)[:, None, :, :]


def evaluate(model, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(to_input(x[i:i + batch]))
            pred = model(xb).argmax(1).numpy()
            correct += int((pred == y[i:i + batch]).sum())
    return correct / len(x)


def export_onnx(model, path: Path) -> None:
    import torch

    model.eval()
    dummy = torch.zeros(1, 1, 28, 28, dtype=torch.float32)
    with warnings.catch_warnings():
        # the legacy exporter is wanted here (plain opset-13 graph, BN kept)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            dynamo=False,
            do_constant_folding=False,
            opset_version=OPSET,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )
    click.echo(f"wrote {path} ({path.stat().st_size / 1024:.1f} KiB)")


def check_onnxruntime(path: Path, x: np.ndarray, y: np.ndarray) -> float | None:
    """Accuracy of the exported model in onnxruntime (None if not installed)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    correct = 0
    for i in range(0, len(x), 1000):
        logits = sess.run(["logits"], {"input": to_input(x[i:i + 1000])})[0]
        correct += int((logits.argmax(1) == y[i:i + 1000]).sum())
    return correct / len(x)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=DEFAULT_DATA, show_default=True,
              help="MNIST npz (x_train/y_train/x_test/y_test, uint8 28x28).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              default=EXAMPLES_DIR, show_default=True, help="Where to write the files.")
@click.option("--epochs", type=int, default=3, show_default=True)
@click.option("--batch-size", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sample-only", is_flag=True, help="Only write mnist_sample.npz (no torch needed).")
def main(data_path: Path, out_dir: Path, epochs: int, batch_size: int, lr: float,
         seed: int, sample_only: bool) -> None:
    """Train the small MNIST CNN and write the example assets."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_mnist(data_path)
    make_sample(data, out_dir / SAMPLE_NAME)
    if sample_only:
        return

    import torch
    import torch.nn as nn

    torch.set_num_threads(2)
    torch.manual_seed(seed)
    np.random.seed(seed)
    rng = np.random.default_rng(seed)

    model = build_model()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()

    x_train = torch.from_numpy(to_input(data["x_train"]))
    y_train = torch.from_numpy(data["y_train"].astype(np.int64))
    n = len(x_train)
    t0 = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.from_numpy(rng.permutation(n))
        total_loss, correct = 0.0, 0
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(idx)
            correct += int((out.argmax(1) == yb).sum())
        test_acc = evaluate(model, data["x_test"], data["y_test"])
        click.echo(f"epoch {epoch}/{epochs}: loss {total_loss / n:.4f} "
                   f"train acc {correct / n:.4f} test acc {test_acc:.4f} "
                   f"({time.time() - t0:.0f} s)")

    test_acc = evaluate(model, data["x_test"], data["y_test"])
    click.echo(f"final test accuracy (torch, 10000 images): {test_acc:.4f}")

    model_path = out_dir / MODEL_NAME
    export_onnx(model, model_path)

    try:
        data_field = str(data_path.resolve().relative_to(REPO_ROOT.parent).as_posix())
        data_field = "../" + data_field
    except ValueError:
        data_field = str(data_path)
    meta = {
        "model": MODEL_NAME,
        "data": data_field,
        "test_accuracy": test_acc,
        "epochs": epochs,
        "opset": OPSET,
        "seed": seed,
    }
    meta_path = out_dir / META_NAME
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    click.echo(f"wrote {meta_path}")

    ort_acc = check_onnxruntime(model_path, data["x_test"], data["y_test"])
    if ort_acc is not None:
        click.echo(f"onnxruntime test accuracy (10000 images): {ort_acc:.4f}")
        if ort_acc != test_acc:
            raise click.ClickException(
                f"onnxruntime accuracy {ort_acc} differs from torch accuracy {test_acc}")


if __name__ == "__main__":
    main()
