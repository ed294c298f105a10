"""A second, deliberately naive implementation of docs/numeric_contract.md.

Plain Python integers and per-event scatter loops, the way the hardware
works (one input spike at a time, every affected neuron updated), in a
random event order. The vectorized golden model must equal it exactly.
"""
from __future__ import annotations

import random

import numpy as np

from snnhw.ir import ROLE_OUTPUT


def _targets(layer, j):
    """(output flat index, weight) for every synapse of input neuron j."""
    if layer.kind == "dense":
        for o in range(layer.weight.shape[0]):
            yield o, int(layer.weight[o, j])
        return
    c_in, h, w = layer.in_shape
    c, y, x = j // (h * w), (j // w) % h, j % w
    oc, oh, ow = layer.out_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    top, left = layer.pads[0], layer.pads[1]
    for ky in range(kh):
        for kx in range(kw):
            py, px = y + top - ky, x + left - kx
            if py % sh or px % sw:
                continue
            oy, ox = py // sh, px // sw
            if not (0 <= oy < oh and 0 <= ox < ow):
                continue
            if layer.kind == "avgpool":
                yield (c * oh + oy) * ow + ox, 1
            else:
                for o in range(oc):
                    yield (o * oh + oy) * ow + ox, int(layer.weight[o, c, ky, kx])


def _channel_of(layer, i):
    return i // int(np.prod(layer.out_shape[1:])) if len(layer.out_shape) == 3 else i


def _analog_current(layer, image):
    flat = [int(v) for v in image.reshape(-1)]
    current = [0] * layer.n_out
    for j, pixel in enumerate(flat):
        if pixel:
            for o, wgt in _targets(layer, j):
                current[o] += wgt * pixel
    return [current[i] + int(layer.bias[_channel_of(layer, i)]) for i in range(layer.n_out)]


def _gate(layer, counts, spikes):
    c, h, w = layer.in_shape
    _, oh, ow = layer.out_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    top, left = layer.pads[0], layer.pads[1]
    out = []
    for ch in range(c):
        for oy in range(oh):
            for ox in range(ow):
                best, best_j = None, None
                for ky in range(kh):
                    for kx in range(kw):
                        y, x = oy * sh - top + ky, ox * sw - left + kx
                        if 0 <= y < h and 0 <= x < w:
                            j = (ch * h + y) * w + x
                            if best is None or counts[j] > best:
                                best, best_j = counts[j], j
                out.append(spikes[best_j])
    return out


def run_reference(qnet, image: np.ndarray, timesteps: int, seed: int = 0):
    """Output potentials after every step for one uint8 image (C, H, W)."""
    rng = random.Random(seed)
    layers = qnet.layers
    v = {}
    counts = {}
    for i, layer in enumerate(layers):
        if layer.is_neuron_layer:
            half = qnet.v_init == "half" and layer.role != ROLE_OUTPUT
            v[i] = [int(layer.threshold[_channel_of(layer, n)]) >> 1 if half else 0 for n in range(layer.n_out)]
        elif layer.kind == "maxpool":
            counts[i] = [0] * int(np.prod(layer.in_shape))
    current = _analog_current(layers[0], image)
    history = []
    for _ in range(timesteps):
        spikes = None
        for i, layer in enumerate(layers):
            if layer.kind == "flatten":
                continue
            if layer.kind == "maxpool":
                counts[i] = [c + s for c, s in zip(counts[i], spikes)]
                spikes = _gate(layer, counts[i], spikes)
                continue
            mem = v[i]
            if layer.analog_input:
                for n in range(layer.n_out):
                    mem[n] += current[n]
            else:
                events = [j for j, s in enumerate(spikes) if s]
                rng.shuffle(events)  # order must not matter
                for j in events:
                    for o, wgt in _targets(layer, j):
                        mem[o] += wgt
                for n in range(layer.n_out):
                    mem[n] += int(layer.bias[_channel_of(layer, n)])
            if layer.role == ROLE_OUTPUT:
                history.append(list(mem))
                break
            spikes = []
            for n in range(layer.n_out):
                theta = int(layer.threshold[_channel_of(layer, n)])
                fired = mem[n] >= theta
                if fired:
                    mem[n] = mem[n] - theta if qnet.reset == "subtract" else 0
                mem[n] = min(max(mem[n], layer.vmin), layer.vmax)
                spikes.append(int(fired))
    return np.array(history, dtype=np.int64)
