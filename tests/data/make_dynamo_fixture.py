"""Writes tests/data/dynamo_bias_free.onnx: a small CNN whose convolutions have no bias, exported by
PyTorch's dynamo exporter (``torch.onnx.export(..., dynamo=True)``, which needs onnxscript).

The exporter builds each missing bias as ``Expand(CastLike(0, input), Shape(weight)...)``: the graph
input is read only for its element type. With ``optimize=False`` the pattern stays in the file (the
exporter's optimizer folds it away in recent onnxscript releases, but not in every one), which is the
point of the fixture. Random weights (seeded); BatchNorm statistics are randomized so they matter.

    python tests/data/make_dynamo_fixture.py          # rewrites the fixture
"""
from __future__ import annotations

import sys
from pathlib import Path

FIXTURE = Path(__file__).with_name("dynamo_bias_free.onnx")
INPUT_SHAPE = (1, 1, 8, 8)


def build_model():
    import torch
    from torch import nn

    class BiasFree(nn.Module):
        """stem Conv-BN-ReLU, a residual block, a depthwise Conv-ReLU6, global average pool, Linear."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
            self.branch = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                                        nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4))
            self.depthwise = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), nn.ReLU6())
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            h = self.stem(x)
            h = torch.relu(self.branch(h) + h)
            h = self.depthwise(h)
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1))

    torch.manual_seed(0)
    model = BiasFree()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.6, 1.4)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def export(path, optimize: bool = False) -> Path:
    import torch

    torch.set_num_threads(1)
    program = torch.onnx.export(build_model(), (torch.rand(*INPUT_SHAPE),), dynamo=True, optimize=optimize,
                                verbose=False)
    program.save(str(path))
    strip_provenance(path)
    return Path(path)


def strip_provenance(path) -> None:
    """Drop the exporter's stack traces and source locations (node metadata and doc strings): they name
    the machine's paths, and the importer never reads them."""
    import onnx

    model = onnx.load(str(path))
    model.doc_string = ""
    del model.metadata_props[:]
    for graph in [model.graph] + [f for f in model.functions]:
        for node in graph.node:
            node.doc_string = ""
            del node.metadata_props[:]
    for value in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        value.doc_string = ""
        del value.metadata_props[:]
    onnx.save(model, str(path))


if __name__ == "__main__":
    print(export(sys.argv[1] if len(sys.argv) > 1 else FIXTURE))
