"""The ``.snn.npz`` file: a QNetwork on disk (written by ``convert``, read by ``generate``).

Format (docs/qnet_format.md): one NumPy ``.npz`` with

* ``meta``: a JSON string: format version, network fields (bits, reset,
  input_scale, v_init, max_timesteps, input_shape, source, meta) and a list
  of layers with every scalar field of :class:`snnhw.ir.QLayer`;
* ``L<i>.weight``, ``L<i>.bias``, ``L<i>.threshold`` (int64) and
  ``L<i>.scale`` (float64) for layer i where present.

It is written to a temporary name and renamed, so a failed run never leaves
a file that looks complete.
"""
from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path

import numpy as np

from snnhw.errors import ModelLoadError
from snnhw.ir import QLayer, QNetwork

FORMAT = "snnhw-qnet"
VERSION = 1
ARRAYS = ("weight", "bias", "threshold", "scale")


def _plain(v):
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def save_qnet(qnet: QNetwork, path) -> Path:
    path = Path(path)
    arrays = {}
    layer_meta = []
    for i, layer in enumerate(qnet.layers):
        row = {}
        for f in fields(QLayer):
            v = getattr(layer, f.name)
            if f.name in ARRAYS:
                if v is not None:
                    arrays[f"L{i}.{f.name}"] = np.asarray(v)
            else:
                row[f.name] = _plain(v)
        layer_meta.append(row)
    meta = dict(format=FORMAT, version=VERSION, bits=qnet.bits, reset=qnet.reset, input_scale=qnet.input_scale,
                v_init=qnet.v_init, max_timesteps=qnet.max_timesteps, input_shape=list(qnet.input_shape),
                source=qnet.source, meta=qnet.meta, layers=layer_meta)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, path)
    return path


def load_qnet(path) -> QNetwork:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: no such file")
    except Exception as exc:  # zip, JSON or key errors all mean "not our file"
        raise ModelLoadError(f"{path}: not a snnhw fixed-point network ({exc})") from exc
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ModelLoadError(f"{path}: not a {FORMAT} v{VERSION} file")
    layers = []
    for i, row in enumerate(meta["layers"]):
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}
        for name in ARRAYS:
            kw[name] = arrays.get(f"L{i}.{name}")
        layers.append(QLayer(**kw))
    return QNetwork(layers=layers, input_shape=tuple(meta["input_shape"]), bits=meta["bits"], reset=meta["reset"],
                    input_scale=meta["input_scale"], source=meta["source"], meta=meta["meta"],
                    v_init=meta["v_init"], max_timesteps=meta["max_timesteps"])
