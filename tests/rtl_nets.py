"""Small hand-built networks for code generation and RTL tests (no ONNX needed)."""
from __future__ import annotations

import numpy as np

from snnhw.frontend.quantize import quantize
from snnhw.ir import AvgPool, Conv, Dense, Flatten, MaxPool, Network
from snnhw.reference.conv import output_hw


class NetBuilder:
    """Chain builder for canonical float networks with random weights."""

    def __init__(self, input_shape, seed=0, gain=1.0, bias=0.05):
        self.rng = np.random.default_rng(seed)
        self.shape = tuple(input_shape)
        self.input_shape = tuple(input_shape)
        self.layers = []
        self.gain = gain
        self.bias = bias

    def conv(self, o, k, s=1, p=0, relu=True):
        c, h, w = self.shape
        kh, kw = (k, k) if isinstance(k, int) else k
        pads = (p, p, p, p) if isinstance(p, int) else tuple(p)
        ho, wo = output_hw((h, w), (kh, kw), (s, s), pads)
        wgt = self.rng.normal(0, self.gain / np.sqrt(c * kh * kw), (o, c, kh, kw)).astype(np.float32)
        b = self.rng.normal(self.bias, 0.1, o).astype(np.float32)
        self.layers.append(Conv(f"conv{len(self.layers)}", wgt, b, (s, s), pads, relu, self.shape, (o, ho, wo)))
        self.shape = (o, ho, wo)
        return self

    def pool(self, kind, k, s=None, p=0):
        c, h, w = self.shape
        s = s or k
        pads = (p, p, p, p) if isinstance(p, int) else tuple(p)
        ho, wo = output_hw((h, w), (k, k), (s, s), pads)
        cls = MaxPool if kind == "max" else AvgPool
        self.layers.append(cls(f"{kind}pool{len(self.layers)}", (k, k), (s, s), pads, self.shape, (c, ho, wo)))
        self.shape = (c, ho, wo)
        return self

    def flatten(self):
        n = int(np.prod(self.shape))
        self.layers.append(Flatten(f"flatten{len(self.layers)}", self.shape, (n,)))
        self.shape = (n,)
        return self

    def dense(self, o, relu=True):
        n = int(np.prod(self.shape))
        wgt = self.rng.normal(0, self.gain / np.sqrt(n), (o, n)).astype(np.float32)
        b = self.rng.normal(self.bias, 0.1, o).astype(np.float32)
        self.layers.append(Dense(f"fc{len(self.layers)}", wgt, b, relu, self.shape, (o,)))
        self.shape = (o,)
        return self

    def network(self):
        return Network(layers=list(self.layers), input_shape=self.input_shape, source="tests/rtl_nets.py")


def images(shape, n, seed=0, sparsity=0.3):
    rng = np.random.default_rng(seed + 100)
    x = rng.integers(0, 256, (n, *shape))
    x[rng.random(x.shape) < sparsity] = 0
    return x.astype(np.uint8)


def qnet_of(builder, bits=8, reset="subtract", v_init="zero", max_timesteps=32):
    return quantize(builder.network(), bits=bits, reset=reset, v_init=v_init, max_timesteps=max_timesteps)


# ---------------------------------------------------------------------------
# Named designs covering every block and option (see tests/test_rtl_sim.py)
# ---------------------------------------------------------------------------
def design_conv_maxpool(seed=1):
    """analog conv (pad 1) -> maxpool 2x2 -> conv stride 2 pad 1 -> flatten -> dense output."""
    b = NetBuilder((1, 8, 8), seed).conv(4, 3, 1, 1).pool("max", 2).conv(5, 3, 2, 1).flatten().dense(4, relu=False)
    return b


def design_dense(seed=2):
    """analog dense first layer -> dense spiking -> dense output."""
    b = NetBuilder((2, 4, 3), seed).dense(10).dense(7).dense(5, relu=False)  # dense on the (C, H, W) image
    return b


def design_avgpool_convout(seed=3):
    """analog conv stride 2 -> avgpool 2x2 -> conv -> conv output layer with a 2x2 map."""
    b = NetBuilder((2, 10, 10), seed).conv(3, 3, 2, 1).pool("avg", 2).conv(4, 2, 1, 0).conv(3, 2, 1, 1, relu=False)
    return b


def design_overlap(seed=4):
    """analog conv -> maxpool 3x3/2 pad 1 (overlapping, padded) -> conv -> avgpool 3x3/1 pad 1 -> dense -> dense out."""
    b = (NetBuilder((1, 9, 9), seed).conv(3, 2, 1, 0).pool("max", 3, 2, 1).conv(4, 3, 1, 1).pool("avg", 3, 1, 1)
         .flatten().dense(6).dense(3, relu=False))
    return b


def design_wide_maxpool(seed=5):
    """analog conv -> maxpool over 4x20x20 = 1600 inputs (counters in two one-block-RAM banks) -> dense out."""
    return NetBuilder((1, 20, 20), seed).conv(4, 3, 1, 1).pool("max", 2).flatten().dense(3, relu=False)


# The hand-built designs every RTL test (lint, simulation) runs:
# name -> (builder, quantize options, generate_design options)
DESIGN_CASES = {
    # analog conv (pad 1), max-pool gate, conv stride 2 + padding, flatten, dense output; P = 1
    "conv_maxpool_p1_b8": (design_conv_maxpool, dict(bits=8), dict(parallelism=1)),
    # analog dense first layer, dense spiking, dense output; reset to zero; P = 3 (not a power of two); 4 bits
    "dense_zero_p3_b4": (design_dense, dict(bits=4, reset="zero"), dict(parallelism=3)),
    # conv stride 2, average pooling, conv output layer with a 2x2 map; v_init half; 12 bits
    "avgpool_convout_half_p2_b12": (design_avgpool_convout, dict(bits=12, v_init="half"), dict(parallelism=2)),
    # overlapping + padded max-pool windows, padded avg-pool, dense spiking; reset zero + v_init half; P = 4
    "overlap_zero_half_p4_b6": (design_overlap, dict(bits=6, reset="zero", v_init="half"), dict(parallelism=4)),
    # P larger than every layer's channel count
    "conv_maxpool_p8_b5": (design_conv_maxpool, dict(bits=5), dict(parallelism=8)),
    # weight ROMs split into banks of 8 words, as mnist_paper's big dense ROM is at 8192: the conv's
    # 108 words in 14 banks (the last one short), the dense output layer's 40 words in 5
    "conv_maxpool_banked_p2_b8": (design_conv_maxpool, dict(bits=8), dict(parallelism=2, weight_bank_words=8)),
    # max-pool counter RAM deeper than one block RAM: banked, registered bank outputs
    "wide_maxpool_p4_b8": (design_wide_maxpool, dict(bits=8), dict(parallelism=4)),
}
