"""FPGA synthesis flows for snnhw build directories (Yosys and nextpnr from PyPI via YoWASP).

Public API:

- :func:`run_synth` (build_dir, target='ecp5'|'ice40'|'xilinx7'|'generic', device=None, freq_mhz=None,
  place_route=True, progress=callback) -> :class:`SynthResult`; writes ``DIR/synth_<target>.json``
- :func:`write_core_file` (build_dir) -> Path of ``DIR/<name>.core`` (FuseSoC CAPI2)
- :func:`format_table` (results) -> text table; :data:`DEVICES`, :func:`get_device`
- :func:`check_bram_mapping` (result, manifest) -> list of problems (empty: every block memory is in BRAM)
"""
from snnhw.synth.checks import check_bram_mapping
from snnhw.synth.devices import DEVICES, TARGETS, Device, get_device
from snnhw.synth.flow import SynthResult, format_table, run_synth, synth_main
from snnhw.synth.fusesoc import write_core_file
from snnhw.synth.tools import SynthToolError

__all__ = ["run_synth", "synth_main", "SynthResult", "format_table", "write_core_file", "check_bram_mapping", "DEVICES",
           "TARGETS", "Device", "get_device", "SynthToolError"]
