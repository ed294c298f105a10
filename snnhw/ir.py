"""The data structures every stage of snnhw shares.

Three levels, each a plain list of layers in execution order (snnhw maps
feed-forward chains; a branching graph is refused at import):

* ``Network`` of ANN layers (float), as imported from ONNX and then rewritten
  by the passes in :mod:`snnhw.frontend.passes` into *canonical form*:
  ``Conv``/``Dense`` (with ``relu`` fused), ``MaxPool``, ``AvgPool``,
  ``Flatten`` only, the last weight layer being the output layer.
* the same ``Network`` after normalization (every threshold is 1, the
  ``lam`` of each weight layer filled in), which the float SNN simulates;
* ``QNetwork`` of integer layers (:class:`QLayer`), which the golden model
  simulates and code generation turns into hardware.

Shapes never include the batch dimension: feature maps are ``(C, H, W)``,
vectors ``(N,)``. Weights use ONNX/PyTorch layout: conv ``(O, I, kh, kw)``,
dense ``(O, I)`` acting on the input flattened in C-H-W order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

Shape = tuple


# --------------------------------------------------------------------------
# Float ANN layers
# --------------------------------------------------------------------------
@dataclass
class Conv:
    name: str
    weight: np.ndarray  # (O, I, kh, kw) float
    bias: np.ndarray  # (O,)
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)  # top, left, bottom, right
    relu: bool = False
    in_shape: Shape = ()
    out_shape: Shape = ()
    lam: Optional[float] = None  # normalization factor of this layer's output


@dataclass
class Dense:
    name: str
    weight: np.ndarray  # (O, I) float
    bias: np.ndarray  # (O,)
    relu: bool = False
    in_shape: Shape = ()
    out_shape: Shape = ()
    lam: Optional[float] = None


@dataclass
class BatchNorm:
    name: str
    scale: np.ndarray
    bias: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float = 1e-5
    in_shape: Shape = ()
    out_shape: Shape = ()


@dataclass
class Relu:
    name: str
    in_shape: Shape = ()
    out_shape: Shape = ()


@dataclass
class MaxPool:
    name: str
    kernel: tuple
    stride: tuple
    pads: tuple = (0, 0, 0, 0)
    in_shape: Shape = ()
    out_shape: Shape = ()


@dataclass
class AvgPool:
    """Average pooling; the divisor is always kh*kw (zero padding counts)."""

    name: str
    kernel: tuple
    stride: tuple
    pads: tuple = (0, 0, 0, 0)
    in_shape: Shape = ()
    out_shape: Shape = ()


@dataclass
class Flatten:
    name: str
    in_shape: Shape = ()
    out_shape: Shape = ()


@dataclass
class Softmax:
    name: str
    in_shape: Shape = ()
    out_shape: Shape = ()


@dataclass
class Identity:
    """Dropout, Identity and other no-ops: removed by the passes."""

    name: str
    in_shape: Shape = ()
    out_shape: Shape = ()


Layer = Union[Conv, Dense, BatchNorm, Relu, MaxPool, AvgPool, Flatten, Softmax, Identity]
WEIGHT_LAYERS = (Conv, Dense)


@dataclass
class Network:
    layers: list
    input_shape: Shape  # (C, H, W)
    source: str = ""  # file the network came from
    input_name: str = "input"
    softmax: bool = False  # the ANN ended in a softmax (removed by passes)

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].out_shape if self.layers else self.input_shape

    def weight_layers(self):
        return [l for l in self.layers if isinstance(l, WEIGHT_LAYERS)]


# --------------------------------------------------------------------------
# Fixed-point spiking network
# --------------------------------------------------------------------------
ROLE_SPIKING = "spiking"  # integrate-and-fire with threshold and reset
ROLE_OUTPUT = "output"  # accumulates, never fires; class = argmax


@dataclass
class QLayer:
    """One layer of the fixed-point SNN (see docs/numeric_contract.md).

    kind: 'conv' | 'dense' | 'avgpool' | 'maxpool' | 'flatten'.
    Neuron layers (conv, dense, avgpool) carry integer weight (avgpool: none,
    every synapse weighs 1), bias, threshold (per output channel) and clamp
    bounds; maxpool is a spike gate; flatten only renames neurons.
    """

    kind: str
    name: str
    in_shape: Shape
    out_shape: Shape
    role: str = ROLE_SPIKING
    analog_input: bool = False  # first layer: input current computed once per image
    weight: Optional[np.ndarray] = None  # int64, conv (O,I,kh,kw), dense (O,I)
    bias: Optional[np.ndarray] = None  # int64 (O,)
    threshold: Optional[np.ndarray] = None  # int64 (O,)
    kernel: tuple = (1, 1)
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    vmin: int = 0  # membrane clamp after the fire phase (spiking layers)
    vmax: int = 0
    weight_bits: int = 0
    bias_bits: int = 0
    mem_bits: int = 0  # signed width that holds every membrane value, mid-step included
    scale: Optional[np.ndarray] = None  # float (O,): normalized weight = int weight * scale
    lam: float = 1.0

    @property
    def is_neuron_layer(self) -> bool:
        return self.kind in ("conv", "dense", "avgpool")

    @property
    def n_out(self) -> int:
        return int(np.prod(self.out_shape))


@dataclass
class QNetwork:
    layers: list
    input_shape: Shape  # (C, H, W) of uint8 pixels
    bits: int
    reset: str = "subtract"  # 'subtract' | 'zero'
    input_scale: float = 1.0 / 255  # model input = pixel * input_scale
    v_init: str = "zero"  # 'zero' | 'half' (spiking layers start at theta >> 1)
    max_timesteps: int = 1024  # output-layer width is sized for this many steps
    source: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return self.layers[-1].n_out

    def neuron_layers(self):
        return [l for l in self.layers if l.is_neuron_layer]
