"""The executable numeric contract: what a converted network computes.

Every number snnhw reports or checks comes from these simulators:

* :mod:`~snnhw.reference.ann` — the float ANN executor (any ``ir.Network``,
  canonical or not), checked against onnxruntime;
* :mod:`~snnhw.reference.float_snn` — the float SNN of the paper with its
  ablation switches (reset, input coding, max-pool gate, readout, initial
  membrane);
* :mod:`~snnhw.reference.golden` — the integer golden model of the
  fixed-point SNN, docs/numeric_contract.md made executable, which the
  generated RTL must equal bit for bit;
* :mod:`~snnhw.reference.spike_ops` and :mod:`~snnhw.reference.conv` — the
  spike operations (weighted sums, the max-pool gate, fan-out counts) and the
  sliding-window arithmetic (window geometry, pooling, one convolution, with an
  optional PyTorch path that is exact on the golden model's integers) shared by
  all three.

Its users: the front end (:mod:`snnhw.frontend`: normalization runs the ANN,
the importer takes its window geometry), :mod:`snnhw.evaluate` (accuracy
against time step of all three), the code generator (:mod:`snnhw.codegen`
writes the golden model's outputs as the RTL test vectors and estimates cycles
from its spikes), and the benchmarks. It depends only on :mod:`snnhw.ir` and
:mod:`snnhw.errors`, never on the front end.
"""
