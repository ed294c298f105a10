"""Float SNN simulator of a normalized network (threshold 1), with the paper's options.

Same step order as the integer contract (docs/numeric_contract.md) but in
float32 and with the ablation switches of paper Fig. 2a and 3.5-3.6:

* reset: 'subtract' (paper eq. 4b) | 'zero';
* input: 'analog' (current W·x + b every step, paper 3.4) | 'poisson'
  (pixel intensity x ∈ [0, 1] is the spike probability per step);
* gate (max-pool): 'count' (spike count so far) | 'ewma' (exponentially
  weighted rate, factor ``ewma_alpha``) | 'none' (ungated: a window outputs a
  spike if any input spiked, which over-estimates the max rate) | 'ann'
  (analysis only: the input whose activation in the normalized ANN is the
  window's maximum, the choice an ideal rate estimate would make from the
  first step; it needs the ANN's answer for the image, so no causal gate
  and no hardware can do it, but it bounds what a better gate could gain);
* output: 'accumulate' (class = argmax of summed input) | 'softmax' (paper
  3.5: an external generator fires with probability ``softmax_rate`` per step
  and a softmax competition over the accumulated potentials picks which
  output neuron spikes; class = most output spikes);
* v_init: 'zero' | 'half' (membranes start at θ/2, a later-work trick that
  cuts latency).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnhw.ir import NEURON_WEIGHT_LAYERS, AvgPool, Conv, Dense, Flatten, MaxPool, Network, Sum, source_indices
from snnhw.reference.spike_ops import exact_dtype, gate, gate_counts, weighted_sum, window_sum, windows

OPTIONS = dict(reset=("subtract", "zero"), input=("analog", "poisson"), gate=("count", "ewma", "none", "ann"),
               output=("accumulate", "softmax"), v_init=("zero", "half"))


@dataclass
class SnnConfig:
    reset: str = "subtract"
    input: str = "analog"
    gate: str = "count"
    output: str = "accumulate"
    v_init: str = "zero"
    ewma_alpha: float = 0.1
    softmax_rate: float = 1.0
    seed: int = 0

    def __post_init__(self):
        for key, allowed in OPTIONS.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, got {getattr(self, key)!r}")


def _bias(layer) -> np.ndarray:
    """Bias broadcastable against the layer's (N, *out_shape) output."""
    return layer.bias.reshape((-1,) + (1,) * (len(layer.out_shape) - 1))


def run_float_snn(net: Network, x: np.ndarray, timesteps: int, cfg: SnnConfig = SnnConfig()) -> np.ndarray:
    """Simulate model inputs ``x`` ((N, C, H, W) float in [0, 1]); return the class after every step, (T, N).

    Layers run in list order (a topological order), each on its sources'
    spikes of the same step; a ``Sum`` integrates all its synapse inputs
    before it fires.
    """
    rng = np.random.default_rng(cfg.seed)
    n = x.shape[0]
    x = x.astype(np.float32)
    layers = net.layers
    sources = source_indices(layers)
    last = max(i for i, l in enumerate(layers) if isinstance(l, NEURON_WEIGHT_LAYERS))
    v0 = 0.5 if cfg.v_init == "half" else 0.0
    membrane = {i: np.full((n, *l.out_shape), 0.0 if i == last else v0, np.float32)
                for i, l in enumerate(layers) if isinstance(l, (Conv, Dense, Sum, AvgPool))}
    pools = {i: l for i, l in enumerate(layers) if isinstance(l, MaxPool)}
    rate_dtype = np.float32
    if cfg.gate == "count":  # integer counts held in floats: gate_counts' keys must stay exact
        k = max((l.kernel[0] * l.kernel[1] for l in pools.values()), default=1)
        rate_dtype = exact_dtype((timesteps + 1) * 2 * k)
    if cfg.gate == "ann":  # fixed "rates": the ANN activations that feed each max-pool
        from snnhw.reference.ann import run_ann

        acts = run_ann(net, x, return_activations=True)
        rates = {i: (x if sources[i][0] < 0 else acts[sources[i][0]]).astype(np.float32) for i in pools}
    else:
        rates = {i: np.zeros((n, *l.in_shape), rate_dtype) for i, l in pools.items()}
    out_spikes = np.zeros((n, layers[last].out_shape[0]), np.int64)
    classes = np.zeros((timesteps, n), np.int64)

    analog_current = {}
    if cfg.input == "analog":  # every layer reading the image gets its current W·x + b once
        analog_current = {i: weighted_sum(_kind(l), l, x, np.float32) + _bias(l)
                          for i, l in enumerate(layers) if isinstance(l, (Conv, Dense)) and sources[i] == (-1,)}
    for t in range(timesteps):
        out = {-1: (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32) if cfg.input == "poisson" else None}
        for i, layer in enumerate(layers):
            s = out.get(sources[i][0])
            if isinstance(layer, Flatten):
                out[i] = s.reshape(n, -1)
                continue
            if isinstance(layer, MaxPool):
                out[i] = _gate(layer, s, rates[i], cfg)
                continue
            v = membrane[i]
            if i in analog_current:
                v += analog_current[i]
            elif isinstance(layer, AvgPool):
                k = layer.kernel[0] * layer.kernel[1]
                v += window_sum(s, layer.kernel, layer.stride, layer.pads, np.float32) / np.float32(k)
            elif isinstance(layer, Sum):
                total = _bias(layer)
                for j, syn in zip(sources[i], layer.synapses):
                    total = weighted_sum(syn.kind, syn, out[j], np.float32) + total
                v += total
            else:
                v += weighted_sum(_kind(layer), layer, s, np.float32) + _bias(layer)
            if i == last:
                classes[t] = _readout(v.reshape(n, -1), out_spikes, cfg, rng)
                break
            fired = v >= 1.0
            if cfg.reset == "subtract":
                v -= fired
            else:
                v[fired] = 0.0
            out[i] = fired.astype(np.float32)
    return classes


def _kind(layer) -> str:
    return "conv" if isinstance(layer, Conv) else "dense"


def _gate(layer: MaxPool, s: np.ndarray, rate: np.ndarray, cfg: SnnConfig) -> np.ndarray:
    if cfg.gate == "none":
        return windows(s, layer.kernel, layer.stride, layer.pads).max(axis=-1)
    if cfg.gate == "ann":  # ReLU outputs are >= 0, so padding (-1 in gate) is never chosen
        return gate(rate, s, layer.kernel, layer.stride, layer.pads)
    if cfg.gate == "count":
        rate += s  # s holds 0.0/1.0: the count stays an exact integer
        return gate_counts(rate, s, layer.kernel, layer.stride, layer.pads)
    rate += np.float32(cfg.ewma_alpha) * (s - rate)
    return gate(rate, s, layer.kernel, layer.stride, layer.pads)


def _readout(v: np.ndarray, out_spikes: np.ndarray, cfg: SnnConfig, rng) -> np.ndarray:
    if cfg.output == "accumulate":
        return v.argmax(axis=1)
    z = v - v.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    fire = rng.random(len(v)) < cfg.softmax_rate
    winner = (rng.random((len(v), 1)) > np.cumsum(p, axis=1)).sum(axis=1).clip(0, v.shape[1] - 1)
    out_spikes[np.arange(len(v))[fire], winner[fire]] += 1
    return out_spikes.argmax(axis=1)
