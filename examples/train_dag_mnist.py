#!/usr/bin/env python
"""Train two small MNIST networks that are graphs, not chains, and export them to ONNX.

* ``--arch dws`` -> ``examples/mnist_dws.onnx``: depthwise-separable (MobileNet-v1 style, ReLU6)::

      Conv2d(1, 16, 3, padding=1) BN ReLU6                                    # 16x28x28
      Conv2d(16, 16, 3, stride=2, padding=1, groups=16) BN ReLU6 (depthwise)  # 16x14x14
      Conv2d(16, 32, 1) BN ReLU6                                 (pointwise)  # 32x14x14
      Conv2d(32, 32, 3, stride=2, padding=1, groups=32) BN ReLU6 (depthwise)  # 32x7x7
      Conv2d(32, 64, 1) BN ReLU6                                 (pointwise)  # 64x7x7
      global average pool, Linear(64, 10)

* ``--arch res`` -> ``examples/mnist_res.onnx``: residual, identity and projection shortcuts::

      Conv2d(1, 8, 3, padding=1) BN ReLU MaxPool2d(2)                        # 8x14x14
      block: Conv(8, 8, 3) BN ReLU Conv(8, 8, 3) BN  + identity        ReLU  # 8x14x14
      block: Conv(8, 16, 3, stride 2) BN ReLU Conv(16, 16, 3) BN
             + Conv(8, 16, 1, stride 2) BN (projection)                ReLU  # 16x7x7
      Flatten, Linear(16*7*7, 10)

Each writes ``<name>.onnx`` (PyTorch's legacy exporter, opset 13, BatchNorm kept, input ``input``
(batch, 1, 28, 28) = pixels / 255, output ``logits``) and ``<name>.json`` (test accuracy of torch
on all 10,000 MNIST test images, epochs, seed). Training: Adam with a one-cycle learning rate (peak
1e-2: decaying to zero settles the BatchNorm statistics, which the depthwise layers need), batch 128,
3 epochs, seed 0, one torch thread: about two minutes per network on one core.

    .venv/bin/python examples/train_dag_mnist.py --arch dws
    .venv/bin/python examples/train_dag_mnist.py --arch res
"""
from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import click
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "mnist.npz"
OPSET = 13


def build_model(arch: str):
    import torch
    from torch import nn

    def conv_bn(c_in, c_out, k, stride=1, groups=1, act=nn.ReLU):
        layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups), nn.BatchNorm2d(c_out)]
        return nn.Sequential(*layers, act()) if act else nn.Sequential(*layers)

    if arch == "dws":
        return nn.Sequential(
            conv_bn(1, 16, 3, act=nn.ReLU6),
            conv_bn(16, 16, 3, stride=2, groups=16, act=nn.ReLU6), conv_bn(16, 32, 1, act=nn.ReLU6),
            conv_bn(32, 32, 3, stride=2, groups=32, act=nn.ReLU6), conv_bn(32, 64, 1, act=nn.ReLU6),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.branch = nn.Sequential(conv_bn(c_in, c_out, 3, stride), conv_bn(c_out, c_out, 3, act=None))
            self.shortcut = conv_bn(c_in, c_out, 1, stride, act=None) if stride != 1 or c_in != c_out else nn.Identity()

        def forward(self, x):
            return torch.relu(self.branch(x) + self.shortcut(x))

    return nn.Sequential(conv_bn(1, 8, 3), nn.MaxPool2d(2), Block(8, 8, 1), Block(8, 16, 2),
                         nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


def to_input(x_uint8: np.ndarray) -> np.ndarray:
    return (x_uint8.astype(np.float32) / 255.0)[:, None, :, :]


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        pred = np.concatenate([model(torch.from_numpy(to_input(x[i:i + 1000]))).argmax(1).numpy()
                               for i in range(0, len(x), 1000)])
    return float((pred == y).mean())


def export_onnx(model, path: Path) -> None:
    import torch

    model.eval()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), str(path), dynamo=False, do_constant_folding=False,
                          opset_version=OPSET, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--arch", type=click.Choice(["dws", "res"]), required=True)
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=DEFAULT_DATA, show_default=True)
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=REPO_ROOT / "examples",
              show_default=True)
@click.option("--epochs", type=int, default=3, show_default=True)
@click.option("--lr", type=float, default=1e-2, show_default=True, help="Peak of the one-cycle schedule.")
@click.option("--seed", type=int, default=0, show_default=True)
def main(arch, data_path, out_dir, epochs, lr, seed):
    """Train the ARCH network on MNIST and write examples/mnist_ARCH.onnx and .json."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    with np.load(data_path) as d:
        data = {k: d[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    model = build_model(arch)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    x_train = torch.from_numpy(to_input(data["x_train"]))
    y_train = torch.from_numpy(data["y_train"].astype(np.int64))
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * -(-len(x_train) // 128))
    t0 = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.from_numpy(rng.permutation(len(x_train)))
        for i in range(0, len(perm), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss_fn(model(x_train[idx]), y_train[idx]).backward()
            opt.step()
            schedule.step()
        click.echo(f"epoch {epoch}/{epochs}: test acc {accuracy(model, data['x_test'], data['y_test']):.4f} "
                   f"({time.time() - t0:.0f} s)")
    test_acc = accuracy(model, data["x_test"], data["y_test"])
    name = f"mnist_{arch}"
    out_dir.mkdir(parents=True, exist_ok=True)
    export_onnx(model, out_dir / f"{name}.onnx")
    meta = dict(model=f"{name}.onnx", data="../shared/data/mnist.npz", test_accuracy=test_acc, epochs=epochs,
                opset=OPSET, seed=seed, lr=lr, train_seconds=round(time.time() - t0))
    (out_dir / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    click.echo(f"wrote {out_dir / name}.onnx and .json; test accuracy (torch, 10,000 images) {test_acc:.4f}")


if __name__ == "__main__":
    main()
