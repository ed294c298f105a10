"""The data structures every stage of snnhw shares.

Three levels, each a plain list of layers in a topological order (every
layer after the layers it reads), the network's output layer last:

* ``Network`` of ANN layers (float), as imported from ONNX and then rewritten
  by the passes in :mod:`snnhw.frontend.passes` into *canonical form*:
  ``Conv``/``Dense``/``Sum`` (with ``relu`` fused), ``MaxPool``, ``AvgPool``,
  ``Flatten`` only, the output layer last.
* the same ``Network`` after normalization (every threshold is 1, the
  ``lam`` of each weight layer filled in), which the float SNN simulates;
* ``QNetwork`` of integer layers (:class:`QLayer`), which the golden model
  simulates and code generation turns into hardware.

Edges: a layer's ``inputs`` names the layers it reads (:data:`INPUT` for the
network input); an empty ``inputs`` means the layer right before it in the
list (the network input for the first layer), so a chain needs no names at
all. A ``Sum`` reads one source per synapse input. :func:`layer_sources`
resolves both forms.

Shapes never include the batch dimension: feature maps are ``(C, H, W)``,
vectors ``(N,)``. Weights use ONNX/PyTorch layout: conv ``(O, I/group, kh, kw)``,
dense ``(O, I)`` acting on the input flattened in C-H-W order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

Shape = tuple

# How layers name the network input in ``inputs`` (no layer may take this name).
INPUT = "@input"


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
    group: int = 1  # input and output channels split into this many groups (depthwise: group = channels)
    cap: Optional[float] = None  # Clip(0, cap) (ReLU6: 6), needs relu; normalized: cap / λ (per channel)
    inputs: tuple = ()


@dataclass
class Dense:
    name: str
    weight: np.ndarray  # (O, I) float
    bias: np.ndarray  # (O,)
    relu: bool = False
    in_shape: Shape = ()
    out_shape: Shape = ()
    lam: Optional[float] = None
    cap: Optional[float] = None
    inputs: tuple = ()


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
    inputs: tuple = ()


@dataclass
class Relu:
    """max(x, 0), or with ``cap`` Clip(x, 0, cap) (ReLU6: cap = 6)."""

    name: str
    in_shape: Shape = ()
    out_shape: Shape = ()
    cap: Optional[float] = None
    inputs: tuple = ()


@dataclass
class MaxPool:
    name: str
    kernel: tuple
    stride: tuple
    pads: tuple = (0, 0, 0, 0)
    in_shape: Shape = ()
    out_shape: Shape = ()
    inputs: tuple = ()


@dataclass
class AvgPool:
    """Average pooling; the divisor is always kh*kw (zero padding counts)."""

    name: str
    kernel: tuple
    stride: tuple
    pads: tuple = (0, 0, 0, 0)
    in_shape: Shape = ()
    out_shape: Shape = ()
    inputs: tuple = ()


@dataclass
class Flatten:
    name: str
    in_shape: Shape = ()
    out_shape: Shape = ()
    inputs: tuple = ()


@dataclass
class Softmax:
    name: str
    in_shape: Shape = ()
    out_shape: Shape = ()
    inputs: tuple = ()


@dataclass
class Identity:
    """Dropout, Identity and other no-ops: removed by the passes."""

    name: str
    in_shape: Shape = ()
    out_shape: Shape = ()
    inputs: tuple = ()


@dataclass
class Add:
    """Element-wise sum of several activations of one shape (a residual
    connection). The passes merge it with the weight layers feeding it into
    one :class:`Sum`."""

    name: str
    inputs: tuple
    relu: bool = False
    cap: Optional[float] = None
    in_shape: Shape = ()
    out_shape: Shape = ()


@dataclass
class Concat:
    """Activations joined along the channel axis (the feature axis of
    vectors). It has no neurons: the passes give each layer that reads it one
    synapse input per joined source."""

    name: str
    inputs: tuple
    in_shapes: tuple = ()  # one shape per input
    out_shape: Shape = ()

    @property
    def in_shape(self) -> Shape:
        return self.out_shape


@dataclass
class Synapses:
    """One synapse input of a :class:`Sum`: the output of layer ``source``
    through a convolution (4-D ``weight``, ``stride``, ``pads``, ``group``)
    or a dense matrix (2-D ``weight``, on the source flattened in C-H-W
    order). Float weights in a ``Network``, int64 in a ``QNetwork``."""

    source: str
    weight: np.ndarray  # conv (O, I/group, kh, kw), dense (O, I)
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    group: int = 1
    in_shape: Shape = ()

    @property
    def kind(self) -> str:
        return "conv" if self.weight.ndim == 4 else "dense"

    @property
    def kernel(self) -> tuple:
        return tuple(int(k) for k in self.weight.shape[2:]) if self.weight.ndim == 4 else (1, 1)


@dataclass
class Sum:
    """Neurons whose input is the sum of several synapse inputs, integrated
    within the same step: a residual ``Add`` of weight layers (an identity
    shortcut is a depthwise 1x1 synapse input of weight 1), or a layer
    reading a ``Concat`` (one synapse input per joined source)."""

    name: str
    synapses: list
    bias: np.ndarray  # (O,): the sum of the merged layers' biases
    relu: bool = False
    cap: Optional[float] = None
    out_shape: Shape = ()
    lam: Optional[float] = None

    @property
    def inputs(self) -> tuple:
        return tuple(s.source for s in self.synapses)

    @property
    def in_shape(self) -> Shape:
        return ()  # each synapse input has its own


Layer = Union[Conv, Dense, Sum, BatchNorm, Relu, MaxPool, AvgPool, Flatten, Softmax, Identity, Add, Concat]
WEIGHT_LAYERS = (Conv, Dense)
NEURON_WEIGHT_LAYERS = (Conv, Dense, Sum)  # layers with weights, bias and a λ


def layer_sources(layers: list, i: int) -> tuple:
    """Names of the layers that layer ``i`` reads (:data:`INPUT`: the network input)."""
    inputs = layers[i].inputs
    if inputs:
        return tuple(inputs)
    return (layers[i - 1].name,) if i > 0 else (INPUT,)


def source_indices(layers: list) -> list:
    """For every layer, the indices of the layers it reads (-1: the network input).

    A name refers to the nearest earlier layer of that name, so a hand-built
    chain with repeated names still resolves (implicit inputs never need names).
    """
    index, out = {INPUT: -1}, []
    for i, layer in enumerate(layers):
        if layer.inputs:
            try:
                out.append(tuple(index[name] for name in layer.inputs))
            except KeyError as e:
                raise ValueError(f"layer {layer.name!r} reads {e.args[0]!r}, which no earlier layer is") from None
        else:
            out.append((i - 1,))
        index[layer.name] = i
    return out


def is_chain(layers: list) -> bool:
    """Every layer reads exactly the layer before it (the first: the network input)."""
    return all(layer_sources(layers, i) == ((layers[i - 1].name,) if i else (INPUT,)) for i in range(len(layers)))


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
        return [l for l in self.layers if isinstance(l, NEURON_WEIGHT_LAYERS)]

    def sources(self, i: int) -> tuple:
        return layer_sources(self.layers, i)


# --------------------------------------------------------------------------
# Fixed-point spiking network
# --------------------------------------------------------------------------
ROLE_SPIKING = "spiking"  # integrate-and-fire with threshold and reset
ROLE_OUTPUT = "output"  # accumulates, never fires; class = argmax
NEURON_KINDS = ("conv", "dense", "avgpool", "sum")


@dataclass
class QLayer:
    """One layer of the fixed-point SNN (see docs/numeric_contract.md).

    kind: 'conv' | 'dense' | 'avgpool' | 'sum' | 'maxpool' | 'flatten'.
    Neuron layers (conv, dense, avgpool, sum) carry integer weight (avgpool:
    none, every synapse weighs 1; sum: one weight per synapse input in
    ``synapses``), bias, threshold (per output channel) and clamp bounds;
    maxpool is a spike gate; flatten only renames neurons.
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
    group: int = 1  # conv: channel groups (depthwise: group = input channels)
    inputs: tuple = ()  # names of the layers read (ir.INPUT: the input); () = the layer before
    synapses: tuple = ()  # kind 'sum': its synapse inputs (ir.Synapses, int64 weights), scale shared

    @property
    def is_neuron_layer(self) -> bool:
        return self.kind in NEURON_KINDS

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

    def sources(self, i: int) -> tuple:
        return layer_sources(self.layers, i)
