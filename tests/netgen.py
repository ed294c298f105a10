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
