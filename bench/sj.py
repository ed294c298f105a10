"""SpikingJelly 2.0 side of the comparison: convert the torch rebuild of a reference network.

``spikingjelly.activation_based.ann2snn.Converter`` (= FXConverter) with a
``RateCodingRecipe``: Conv-BN fusion, VoltageHook calibration (``mode`` =
``"99.9%"`` or ``"Max"``, momentum 0.1 over the calibration batches), each
ReLU replaced by VoltageScaler(1/λ) → IFNode(threshold 1, soft reset) →
VoltageScaler(λ). Max-pool layers stay ``nn.MaxPool2d`` applied to spikes
(SpikingJelly has no spiking max-pool gate). The image is fed as an analog
current every step; the class is the argmax of the summed outputs.
"""
from __future__ import annotations

import copy
import time

import numpy as np

from bench.common import log, to_float, torch_model


def available() -> str | None:
    """None when spikingjelly 2.0 imports, else the reason it does not."""
    try:
        import spikingjelly  # noqa: F401
        from spikingjelly.activation_based import ann2snn  # noqa: F401
    except Exception as exc:  # ImportError or a broken install
        return f"spikingjelly not importable ({exc}); install: .venv/bin/pip install spikingjelly==2.0.0 torch==2.13.0"
    return None


def version() -> str:
    from importlib.metadata import version as v

    return v("spikingjelly")


def convert(shared, model: str, calib_u8: np.ndarray, mode: str, calib_batch: int = 100, **recipe_kw):
    """The converted SNN (torch module, eval mode) and the conversion time in seconds."""
    import torch
    from spikingjelly.activation_based import ann2snn

    try:
        from loguru import logger as _lg
        _lg.remove()  # SpikingJelly logs every conversion at INFO
    except Exception:
        pass
    ann = torch_model(shared, model, softmax=False)  # logits: the same argmax, summed like our output layer
    xc = torch.from_numpy(to_float(calib_u8))
    loader = [xc[s:s + calib_batch] for s in range(0, len(xc), calib_batch)]
    t0 = time.perf_counter()
    recipe = ann2snn.RateCodingRecipe(dataloader=loader, mode=mode, **recipe_kw)
    snn = ann2snn.Converter(recipe=recipe, device="cpu").convert(copy.deepcopy(ann))
    return snn.eval(), time.perf_counter() - t0


def run(snn, x_u8: np.ndarray, timesteps: int) -> np.ndarray:
    """Class after every step (T, N): summed outputs' argmax, as in SpikingJelly's examples."""
    import torch
    from spikingjelly.activation_based import functional

    x = torch.from_numpy(to_float(x_u8))
    classes = np.zeros((timesteps, len(x_u8)), np.int64)
    with torch.no_grad():
        functional.reset_net(snn)
        acc = None
        for t in range(timesteps):
            out = snn(x)
            acc = out if acc is None else acc + out
            classes[t] = acc.argmax(dim=1).numpy()
        functional.reset_net(snn)
    return classes


def hits(snn, x_u8, y, timesteps: int, batch: int, label: str = "") -> np.ndarray:
    """Correctly classified images after every step 1..T."""
    hits = np.zeros(timesteps, np.int64)
    t0 = time.perf_counter()
    for s in range(0, len(x_u8), batch):
        hits += (run(snn, x_u8[s:s + batch], timesteps) == y[s:s + batch]).sum(axis=1)
        done = min(s + batch, len(x_u8))
        log(f"  {label} spikingjelly {done}/{len(x_u8)}: acc@T {100 * hits[-1] / done:.2f}% ({time.perf_counter() - t0:.0f} s)")
    return hits
