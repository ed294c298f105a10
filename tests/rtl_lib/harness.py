"""Run one library module's cocotb test on Verilator, for one parameter set.

Each ``tests/rtl_lib/test_<module>.py`` (pytest) calls :func:`run_module` with
the module's parameters; the cocotb coroutines live beside it in
``tests/rtl_lib/cocotb_<module>.py`` and read their parameters back from the
DUT (``int(dut.DEPTH.value)``) or from ``SNNHW_PARAMS`` (JSON) in the
environment. Builds are cached per (sources, toplevel, parameters, defines)
under ``$XDG_CACHE_HOME/snnhw/rtl_lib`` so a rerun only simulates.

:func:`expect_param_error` checks a module's elaboration-time parameter
check: the simulation must stop at time 0 with the check's message.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
from pathlib import Path

from snnhw.sim.runner import _save_runtime, _seed_runtime
from snnhw.sim.tools import apply_verilator_env

HERE = Path(__file__).resolve().parent
LIB = HERE.parents[1] / "snnhw" / "rtl_lib"
BUILD_ARGS = ["-O2", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal"]


def lib_sources(*modules: str) -> list:
    """Paths of library modules by name (``"snn_fifo"`` -> ``snnhw/rtl_lib/snn_fifo.v``)."""
    return [LIB / f"{m}.v" for m in modules]


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "snnhw" / "rtl_lib"


def _key(sources, toplevel, parameters, defines) -> str:
    h = hashlib.sha256()
    for s in sources:
        h.update(Path(s).name.encode())
        h.update(Path(s).read_bytes())
    h.update(json.dumps([toplevel, sorted(parameters.items()), sorted(defines.items())], default=str).encode())
    return h.hexdigest()[:20]


def build_module(toplevel: str, sources, parameters: dict, defines: dict | None = None) -> Path:
    """Verilate ``toplevel`` with ``parameters`` (cached); returns its build directory."""
    defines = dict(defines or {})
    sources = [Path(s) for s in sources]
    apply_verilator_env()
    build_dir = _cache_root() / f"{toplevel}-{_key(sources, toplevel, parameters, defines)}"
    if (build_dir / toplevel).exists() and (build_dir / "snnhw.ok").exists():
        return build_dir
    # two test workers may want the same build (e.g. one module test and its cycle test): one builds, the
    # other waits on the lock and then finds it done
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(build_dir.parent / f"{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (build_dir / toplevel).exists() and (build_dir / "snnhw.ok").exists():
            return build_dir
        return _build_locked(toplevel, sources, parameters, defines, build_dir)


def _build_locked(toplevel, sources, parameters, defines, build_dir: Path) -> Path:
    from cocotb_tools.runner import get_runner

    _seed_runtime(build_dir)
    get_runner("verilator").build(
        sources=[str(s) for s in sources], hdl_toplevel=toplevel, build_dir=str(build_dir),
        parameters=parameters, defines=defines, build_args=BUILD_ARGS, timescale=("1ns", "1ps"),
        always=True, log_file=str(build_dir / "build.log"))
    (build_dir / "snnhw.ok").write_text("")
    _save_runtime(build_dir)
    return build_dir


def run_module(toplevel: str, sources, parameters: dict, test_module: str, *, defines: dict | None = None,
               extra_env: dict | None = None, seed: int = 1, testcase=None):
    """Build (cached) and run the cocotb ``test_module`` against ``toplevel``; returns (tests, failed, log).

    ``parameters`` also reach the cocotb test as JSON in ``SNNHW_PARAMS``.
    """
    from cocotb_tools.runner import get_results, get_runner

    build_dir = build_module(toplevel, sources, parameters, defines)
    tag = hashlib.sha256(f"{test_module}|{testcase}|{os.getpid()}|{seed}".encode()).hexdigest()[:10]
    results = build_dir / f"results_{tag}.xml"
    log = build_dir / f"test_{tag}.log"
    env = {"SNNHW_PARAMS": json.dumps(parameters),
           "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1])] + sys.path)}
    env.update(extra_env or {})
    try:
        get_runner("verilator").test(test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
                                     build_dir=str(build_dir), test_dir=str(build_dir), extra_env=env,
                                     results_xml=str(results), seed=seed, testcase=testcase, log_file=str(log))
    except (SystemExit, Exception):  # a failing test or a $fatal lands here; the results file and log tell
        pass
    text = log.read_text() if log.exists() else ""
    if not results.exists():
        return 0, 1, text
    tests, failed = get_results(results)
    return tests, failed, text


def assert_passes(toplevel: str, sources, parameters: dict, test_module: str, **kw) -> None:
    tests, failed, log = run_module(toplevel, sources, parameters, test_module, **kw)
    assert tests > 0 and failed == 0, f"{toplevel} {parameters}: {failed} of {tests} cocotb test(s) failed\n" + \
        log[-4000:]


def expect_param_error(toplevel: str, sources, parameters: dict, message: str) -> str:
    """A bad parameter set must stop the simulation at time 0 with ``message`` in the log."""
    tests, failed, log = run_module(toplevel, sources, parameters, "cocotb_param_check")
    assert message in log, f"{toplevel} {parameters}: expected the parameter check '{message}'; log:\n{log[-3000:]}"
    assert failed or not tests, f"{toplevel} {parameters}: the simulation went on despite '{message}'"
    return log
