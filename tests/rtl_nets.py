"""Small hand-built networks for code generation and RTL tests (no ONNX needed)."""
from __future__ import annotations

import json
from pathlib import Path

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


def qnet_of(builder, bits=8, reset="subtract", v_init="zero", max_timesteps=32, per_channel=False):
    return quantize(builder.network(), bits=bits, reset=reset, v_init=v_init, max_timesteps=max_timesteps,
                    per_channel=per_channel)


def lane_thresholds(build_dir) -> dict:
    """The thresholds the RTL reads, per spiking layer: layer index -> list of theta ROM words, each the
    list of its used lanes' thresholds (decoded from mem/l<i>_theta.hex; the partial last channel
    group's unused lanes left out)."""
    build_dir = Path(build_dir)
    manifest = json.loads((build_dir / "manifest.json").read_text())
    out = {}
    for row in manifest["layers"]:
        if "threshold_bits" not in row:
            continue
        P, TB, C = row["parallelism"], row["threshold_bits"], row["out_shape"][0]
        words = (build_dir / "mem" / f"l{row['index']}_theta.hex").read_text().split()
        assert len(words) == row["channel_groups"] == -(-C // P)
        mask = (1 << TB) - 1
        out[row["index"]] = [[(int(w, 16) >> (p * TB)) & mask for p in range(P) if g * P + p < C]
                             for g, w in enumerate(words)]
    return out


def words_with_distinct_lane_thresholds(build_dir) -> int:
    """How many theta ROM words hold two or more different thresholds in their used lanes."""
    return sum(len(set(word)) > 1 for words in lane_thresholds(build_dir).values() for word in words)


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


def design_deep_link(seed=7):
    """analog conv -> conv -> maxpool (8x6x6 = 288 events a step at most) -> conv 3x3 pad 1 -> flatten -> dense
    out: the last conv reads its events from the first spiking conv through the gate over a deep link
    (snn_fifo_block)."""
    return (NetBuilder((1, 12, 12), seed, gain=1.3).conv(4, 3, 1, 1).conv(8, 3, 1, 1).pool("max", 2)
            .conv(4, 3, 1, 1).flatten().dense(3, relu=False))


def design_slow_conv(seed=6):
    """analog conv (2 channels, fast) -> conv 8 channels 5x5 pad 2 (at one lane 200 cycles per input spike: the
    slow engine) -> flatten -> dense out. Layer 0 runs ahead of the slow conv, so an early exit finds the slow
    conv busy on a later step."""
    return NetBuilder((1, 6, 6), seed, gain=1.5).conv(2, 3, 1, 1).conv(8, 5, 1, 2).flatten().dense(3, relu=False)


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
    # per-channel scales (distinct thresholds in the lanes of one membrane word, of different bit
    # lengths in the analog layer), reset to zero, v_init half (theta >> 1 per lane), P = 3: both conv
    # layers end in a partial channel group (4 = 3 + 1, 5 = 3 + 2 channels); max-pool gate, padded
    # stride-2 conv, dense output
    "conv_maxpool_pc_zero_half_p3_b8": (design_conv_maxpool, dict(bits=8, per_channel=True, reset="zero",
                                                                  v_init="half"), dict(parallelism=3)),
    # per-channel scales, reset to zero, v_init half, P = 5: analog dense 10 = 5 + 5, dense spiking
    # 7 = 5 + 2 (partial last group), dense output 5; 6 bits
    "dense_pc_zero_half_p5_b6": (design_dense, dict(bits=6, per_channel=True, reset="zero", v_init="half"),
                                 dict(parallelism=5)),
    # per-channel scales with reset by subtraction and v_init half, P = 5 clamped per layer: analog conv
    # 3 lanes, conv 4 lanes, avg-pool (one threshold 9), dense 6 = 5 + 1; overlapping padded pools
    "overlap_pc_sub_half_p5_b7": (design_overlap, dict(bits=7, per_channel=True, v_init="half"),
                                  dict(parallelism=5)),
    # per-layer lanes: analog conv 4 channels in 3 lanes (partial group 3 + 1), max-pool gate, the stride-2
    # conv 5 channels in 2 lanes (2 + 2 + 1), dense output in 4 lanes (one group)
    "conv_maxpool_mixed_lanes_b8": (design_conv_maxpool, dict(bits=8),
                                    dict(parallelism={"conv0": 3, 2: 2, "default": 4})),
    # per-layer lanes by index: analog conv 3 channels in 2 lanes (2 + 1), padded overlapping max-pool,
    # conv 4 channels in 1 lane, avg-pool 4 lanes,
    # dense spiking 6 = 5 + 1 (partial), dense output 3 channels in 2 lanes (2 + 1)
    "overlap_mixed_lanes_b6": (design_overlap, dict(bits=6, v_init="half"),
                               dict(parallelism={0: 2, 2: 1, 3: 4, 5: 5, 6: 2})),
    # a deep link (block-RAM FIFO) into the last conv, 4 channels in 2 lanes, fed by the first spiking conv
    # through the max-pool gate
    "deep_link_p2_b8": (design_deep_link, dict(bits=8, v_init="half"), dict(parallelism=2)),
}

# cases with per-channel scales: their theta ROMs must hold distinct thresholds within a word
PER_CHANNEL_CASES = sorted(k for k, (_, q, _) in DESIGN_CASES.items() if q.get("per_channel"))
