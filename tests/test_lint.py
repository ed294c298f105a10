"""verilator --lint-only -Wall on generated designs: no warnings, no waivers."""
from __future__ import annotations

import pytest

import rtl_nets as R
from example_model import example_qnet
from snnhw.codegen import generate_design
from snnhw.sim.tools import lint

CASES = R.DESIGN_CASES


@pytest.mark.parametrize("name", sorted(CASES))
def test_lint_clean(tmp_path, name):
    make, qargs, gen = CASES[name]
    q = R.qnet_of(make(), **qargs)
    generate_design(q, tmp_path / name, timesteps=4, test_images=R.images(q.input_shape, 1), **gen)
    lint(tmp_path / name)
    lint(tmp_path / name, defines=("SNNHW_TAPS", "SNNHW_ASSERT"))


@pytest.mark.parametrize("P", [1, 16])
def test_lint_clean_example(tmp_path, P):
    q, x, _ = example_qnet()
    generate_design(q, tmp_path / "ex", parallelism=P, timesteps=4, test_images=x[:1])
    lint(tmp_path / "ex")
    lint(tmp_path / "ex", defines=("SNNHW_TAPS", "SNNHW_ASSERT"))
