"""Random small canonical networks for property tests (numpy RNG, seeded)."""
from __future__ import annotations

import numpy as np

from snnhw.ir import AvgPool, Conv, Dense, Flatten, MaxPool, Network
from snnhw.reference.conv import output_hw


def random_network(seed: int, max_channels: int = 4, size: int = 8, in_channels: int = 1) -> Network:
    """conv (analog) → [pool] → conv → [pool] → flatten → [dense] → dense output, random geometry."""
    rng = np.random.default_rng(seed)
    shape = (in_channels, size, size)
    layers = []

    def conv(name):
        nonlocal shape
        c, h, w = shape
        k = int(rng.integers(1, min(5, h) + 1))
        s = int(rng.integers(1, 3))
        p = int(rng.integers(0, k // 2 + 1))
        o = int(rng.integers(1, max_channels + 1))
        ho, wo = output_hw((h, w), (k, k), (s, s), (p, p, p, p))
        layers.append(Conv(name, rng.normal(0, 1.0 / np.sqrt(c * k * k), (o, c, k, k)).astype(np.float32),
                           rng.normal(0.05, 0.1, o).astype(np.float32), (s, s), (p, p, p, p), True, shape,
                           (o, ho, wo)))
        shape = (o, ho, wo)

    def pool(name):
        nonlocal shape
        c, h, w = shape
        if h < 2 or rng.random() < 0.3:
            return
        k = int(rng.integers(2, min(3, h) + 1))
        s = int(rng.integers(1, k + 1))
        p = int(rng.integers(0, k // 2 + 1)) if rng.random() < 0.3 else 0
        cls = MaxPool if rng.random() < 0.6 else AvgPool
        ho, wo = output_hw((h, w), (k, k), (s, s), (p, p, p, p))
        layers.append(cls(name, (k, k), (s, s), (p, p, p, p), shape, (c, ho, wo)))
        shape = (c, ho, wo)

    conv("conv1")
    pool("pool1")
    conv("conv2")
    pool("pool2")
    n = int(np.prod(shape))
    layers.append(Flatten("flatten", shape, (n,)))
    if rng.random() < 0.5:
        m = int(rng.integers(2, 9))
        layers.append(Dense("fc1", rng.normal(0, 1 / np.sqrt(n), (m, n)).astype(np.float32),
                            rng.normal(0.05, 0.1, m).astype(np.float32), True, (n,), (m,)))
        n = m
    k = int(rng.integers(2, 6))
    layers.append(Dense("out", rng.normal(0, 1 / np.sqrt(n), (k, n)).astype(np.float32),
                        rng.normal(0, 0.1, k).astype(np.float32), False, (n,), (k,)))
    return Network(layers=layers, input_shape=(in_channels, size, size), source=f"random_network(seed={seed})")


def random_images(seed: int, n: int, shape) -> np.ndarray:
    return np.random.default_rng(seed + 1).integers(0, 256, (n, *shape), dtype=np.uint8)


# --------------------------------------------------------------------------
# ONNX graphs (residual Adds, Concats, grouped convs, ReLU6, global pooling)
# --------------------------------------------------------------------------
class OnnxBuilder:
    """Builds a small ONNX model node by node; every method returns the name of its output tensor.

    Shapes (batch-free) are tracked in ``shapes`` so that a caller can size the next layer.
    """

    def __init__(self, in_shape=(1, 8, 8), seed: int = 0, opset: int = 13):
        self.rng = np.random.default_rng(seed)
        self.opset = opset
        self.nodes, self.inits = [], []
        self.shapes = {"x": tuple(in_shape)}
        self.count = 0

    def _name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, array, prefix: str = "k") -> str:
        from onnx import numpy_helper

        name = self._name(prefix)
        array = np.asarray(array)
        self.inits.append(numpy_helper.from_array(array.astype(np.float32) if array.dtype == np.float64 else array,
                                                  name))
        return name

    def node(self, op: str, inputs: list, shape, prefix: str = None, **attrs) -> str:
        from onnx import helper

        out = self._name(prefix or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"/{out}/{op}", **attrs))
        self.shapes[out] = tuple(shape)
        return out

    def conv(self, x: str, c_out: int, k: int = 3, stride: int = 1, group: int = 1, bias: bool = True,
             pad: int = None) -> str:
        c, h, w = self.shapes[x]
        pad = k // 2 if pad is None else pad
        fan_in = c // group * k * k
        inputs = [x, self.const(self.rng.normal(0, 1.2 / np.sqrt(fan_in), (c_out, c // group, k, k)), "w")]
        if bias:
            inputs.append(self.const(self.rng.normal(0.05, 0.15, c_out), "b"))
        ho, wo = output_hw((h, w), (k, k), (stride, stride), (pad,) * 4)
        return self.node("Conv", inputs, (c_out, ho, wo), kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4, group=group)

    def bn(self, x: str) -> str:
        c = self.shapes[x][0]
        r = self.rng
        params = [self.const(v, p) for v, p in ((r.uniform(0.6, 1.4, c), "gamma"), (r.normal(0, 0.1, c), "beta"),
                                               (r.normal(0, 0.1, c), "mean"), (r.uniform(0.5, 1.5, c), "var"))]
        return self.node("BatchNormalization", [x] + params, self.shapes[x], epsilon=1e-3)

    def relu(self, x: str) -> str:
        return self.node("Relu", [x], self.shapes[x])

    def clip(self, x: str, low: float = 0.0, high: float = 6.0) -> str:
        if self.opset < 11:
            return self.node("Clip", [x], self.shapes[x], min=low, max=high)
        bounds = [self.const(np.array(v, np.float32), "bound") for v in (low, high)]
        return self.node("Clip", [x] + bounds, self.shapes[x])

    def add(self, *xs: str) -> str:
        return self.node("Add" if len(xs) == 2 else "Sum", list(xs), self.shapes[xs[0]])

    def concat(self, *xs: str) -> str:
        c = sum(self.shapes[x][0] for x in xs)
        return self.node("Concat", list(xs), (c, *self.shapes[xs[0]][1:]), axis=1)

    def pool(self, x: str, kind: str = "max", k: int = 2, stride: int = 2) -> str:
        c, h, w = self.shapes[x]
        ho, wo = output_hw((h, w), (k, k), (stride, stride), (0, 0, 0, 0))
        return self.node("MaxPool" if kind == "max" else "AveragePool", [x], (c, ho, wo), kernel_shape=[k, k],
                         strides=[stride, stride])

    def global_avgpool(self, x: str) -> str:
        return self.node("GlobalAveragePool", [x], (self.shapes[x][0], 1, 1))

    def reduce_mean(self, x: str, keepdims: int = 1) -> str:
        c = self.shapes[x][0]
        shape = (c, 1, 1) if keepdims else (c,)
        if self.opset >= 18:
            return self.node("ReduceMean", [x, self.const(np.array([2, 3], np.int64), "axes")], shape,
                             keepdims=keepdims)
        return self.node("ReduceMean", [x], shape, axes=[2, 3], keepdims=keepdims)

    def flatten(self, x: str) -> str:
        return self.node("Flatten", [x], (int(np.prod(self.shapes[x])),), axis=1)

    def gemm(self, x: str, n_out: int) -> str:
        n_in = self.shapes[x][0]
        w = self.const(self.rng.normal(0, 1.5 / np.sqrt(n_in), (n_out, n_in)), "fc")
        b = self.const(self.rng.normal(0, 0.1, n_out), "fcb")
        return self.node("Gemm", [x, w, b], (n_out,), transB=1)

    def model(self, output: str):
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            self.nodes, "netgen", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *self.shapes["x"]])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", *self.shapes[output]])], self.inits)
        opsets = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="snnhw-tests")
        model.ir_version = helper.find_min_ir_version_for(opsets)
        return model


BLOCKS = ("identity", "projection", "depthwise", "grouped", "concat", "pool")


def random_dag_model(seed: int, size: int = 6, in_channels: int = 1, max_channels: int = 4, blocks=None):
    """A random small ONNX CNN built from residual (identity and projection), depthwise, grouped, Concat and
    pooling blocks, with BatchNorm on some convs, ReLU or Clip(0, a) activations, and a global-average-pool
    or flatten head into a Gemm. Returns (model, list of the blocks drawn)."""
    b = OnnxBuilder((in_channels, size, size), seed)
    rng = b.rng

    def act(x):
        return b.clip(x, 0.0, float(rng.choice([1.0, 2.0, 6.0]))) if rng.random() < 0.25 else b.relu(x)

    def conv_bn(x, c_out, **kw):
        y = b.conv(x, c_out, **kw)
        return b.bn(y) if rng.random() < 0.5 else y

    h = act(conv_bn("x", int(rng.integers(2, max_channels + 1))))
    drawn = []
    for kind in blocks or rng.choice(BLOCKS, size=int(rng.integers(1, 4))):
        c, height, _ = b.shapes[h]
        if kind == "identity":
            a = act(conv_bn(h, c, k=int(rng.choice([1, 3]))))
            h = act(b.add(conv_bn(a, c), h))
        elif kind == "projection":
            stride = 2 if height >= 4 and rng.random() < 0.6 else 1
            c2 = int(rng.integers(1, max_channels + 1))
            a = act(conv_bn(h, c2, stride=stride))
            h = act(b.add(conv_bn(a, c2), conv_bn(h, c2, k=1, stride=stride)))
        elif kind == "depthwise":
            h = act(conv_bn(h, c * int(rng.integers(1, 3)), group=c))
        elif kind == "grouped":
            divisors = [g for g in range(2, c + 1) if c % g == 0]
            if not divisors:
                continue
            g = int(rng.choice(divisors))
            h = act(conv_bn(h, g * int(rng.integers(1, 3)), group=g))
        elif kind == "concat":
            parts = [act(conv_bn(h, int(rng.integers(1, 3)), k=int(rng.choice([1, 3])))) for _ in range(2)]
            if rng.random() < 0.3:
                parts.append(h)  # a dense-net-like concat with the block input
            h = b.concat(*parts)
        elif kind == "pool":
            if height < 2:
                continue
            h = b.pool(h, str(rng.choice(["max", "avg"])))
        drawn.append(str(kind))
    if rng.random() < 0.5:
        h = b.flatten(b.global_avgpool(h))
        drawn.append("gap")
    else:
        h = b.flatten(h)
    if rng.random() < 0.3:
        h = b.relu(b.gemm(h, int(rng.integers(3, 8))))
    return b.model(b.gemm(h, int(rng.integers(2, 5)))), drawn
