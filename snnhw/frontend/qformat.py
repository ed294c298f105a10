"""The ``.snn.npz`` file: a QNetwork on disk (written by ``convert``, read by ``generate``).

Format (docs/qnet_format.md): one NumPy ``.npz`` with

* ``meta``: a JSON string: format version, network fields (bits, reset,
  input_scale, v_init, max_timesteps, input_shape, source, meta) and a list
  of layers with every scalar field of :class:`snnhw.ir.QLayer`;
* ``L<i>.weight``, ``L<i>.bias``, ``L<i>.threshold`` (int64) and
  ``L<i>.scale`` (float64) for layer i where present; version 2 adds
  ``L<i>.S<k>.weight`` (int64) for synapse input k of a ``sum`` layer.

Version 1 holds chains of group-1 layers; version 2 adds what graphs need
(every layer's ``inputs``, ``group``, ``sum`` layers and their synapse
inputs). A network that version 1 can hold is written as version 1, so a
chain's file is the same as before graphs existed and older readers still
take it; both versions are read.

It is written to a temporary name and renamed, so a failed run never leaves
a file that looks complete.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from snnhw.errors import ModelLoadError
from snnhw.ir import INPUT, QLayer, QNetwork, Synapses, is_chain, layer_sources

FORMAT = "snnhw-qnet"
VERSION = 2
VERSIONS = (1, 2)
ARRAYS = ("weight", "bias", "threshold", "scale")
# Scalar layer fields of each version, in file order.
V1_FIELDS = ("kind", "name", "in_shape", "out_shape", "role", "analog_input", "kernel", "stride", "pads",
             "vmin", "vmax", "weight_bits", "bias_bits", "mem_bits", "lam")
V2_FIELDS = V1_FIELDS + ("group", "inputs")
SYNAPSE_FIELDS = ("source", "kind", "in_shape", "kernel", "stride", "pads", "group")


def _plain(v):
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def file_version(qnet: QNetwork) -> int:
    """The oldest format version that holds ``qnet``."""
    plain = is_chain(qnet.layers) and all(l.kind != "sum" and l.group == 1 for l in qnet.layers)
    return 1 if plain else 2


def save_qnet(qnet: QNetwork, path) -> Path:
    path = Path(path)
    version = file_version(qnet)
    arrays = {}
    layer_meta = []
    for i, layer in enumerate(qnet.layers):
        for name in ARRAYS:
            v = getattr(layer, name)
            if v is not None:
                arrays[f"L{i}.{name}"] = np.asarray(v)
        row = {f: _plain(getattr(layer, f)) for f in (V1_FIELDS if version == 1 else V2_FIELDS)}
        if version > 1:
            row["inputs"] = list(layer_sources(qnet.layers, i))  # spelled out: every layer names its sources
            if layer.kind == "sum":
                row["synapses"] = [{f: _plain(getattr(s, f)) for f in SYNAPSE_FIELDS} for s in layer.synapses]
                for k, s in enumerate(layer.synapses):
                    arrays[f"L{i}.S{k}.weight"] = np.asarray(s.weight)
        layer_meta.append(row)
    meta = dict(format=FORMAT, version=version, bits=qnet.bits, reset=qnet.reset, input_scale=qnet.input_scale,
                v_init=qnet.v_init, max_timesteps=qnet.max_timesteps, input_shape=list(qnet.input_shape),
                source=qnet.source, meta=qnet.meta, layers=layer_meta)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, path)
    return path


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


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
    if meta.get("format") != FORMAT or meta.get("version") not in VERSIONS:
        raise ModelLoadError(f"{path}: not a {FORMAT} file of version {' or '.join(map(str, VERSIONS))}")
    try:
        layers = []
        for i, row in enumerate(meta["layers"]):
            kw = {k: _tuples(v) for k, v in row.items() if k != "synapses"}
            for name in ARRAYS:
                kw[name] = arrays.get(f"L{i}.{name}")
            kw["synapses"] = tuple(
                Synapses(s["source"], arrays[f"L{i}.S{k}.weight"], tuple(s["stride"]), tuple(s["pads"]),
                         int(s["group"]), tuple(s["in_shape"]))
                for k, s in enumerate(row.get("synapses", ())))
            layers.append(QLayer(**kw))
        _compact_inputs(layers)
    except (KeyError, TypeError) as exc:
        raise ModelLoadError(f"{path}: a layer of this {FORMAT} file is incomplete ({exc!r})") from exc
    return QNetwork(layers=layers, input_shape=tuple(meta["input_shape"]), bits=meta["bits"], reset=meta["reset"],
                    input_scale=meta["input_scale"], source=meta["source"], meta=meta["meta"],
                    v_init=meta["v_init"], max_timesteps=meta["max_timesteps"])


def _compact_inputs(layers: list) -> None:
    """In memory an edge to the layer right before is implicit (``inputs=()``), as quantize makes it."""
    previous = INPUT
    for layer in layers:
        if layer.kind != "sum" and tuple(layer.inputs) == (previous,):
            layer.inputs = ()
        previous = layer.name
