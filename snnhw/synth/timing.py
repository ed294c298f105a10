"""Fmax, utilisation and critical paths from nextpnr (``--report`` JSON, log as fallback)."""
from __future__ import annotations

import re

_FMAX_LOG = re.compile(r"Max frequency for clock\s+'([^']+)':\s+([0-9.]+)\s+MHz")


def fmax_from(report: dict, log: str = "") -> float | None:
    """Achieved Fmax of the (slowest) clock, in MHz."""
    fm = (report or {}).get("fmax") or {}
    vals = [float(v["achieved"]) for v in fm.values() if isinstance(v, dict) and "achieved" in v]
    if vals:
        return round(min(vals), 2)
    found = {}
    for clk, mhz in _FMAX_LOG.findall(log or ""):
        found[clk] = float(mhz)  # the last report (after routing) wins
    return round(min(found.values()), 2) if found else None


def utilization_from(report: dict) -> dict:
    util = (report or {}).get("utilization") or {}
    return {k: {"used": int(v.get("used", 0)), "available": int(v.get("available", 0))} for k, v in util.items()
            if isinstance(v, dict) and v.get("used")}


def _endpoint(seg_end: dict) -> str:
    if not seg_end:
        return ""
    return f"{seg_end.get('cell', '')}.{seg_end.get('port', '')}"


def _rtl_name(name: str) -> str:
    """Make nextpnr/Yosys cell and net names readable: drop $auto$ noise, keep the hierarchical RTL part."""
    if not name:
        return name
    name = re.sub(r"\$(auto|abc|techmap)\$[^ ]*?\$\d+", "", name)
    name = name.replace("$", "")
    return name.strip(".") or name


def critical_paths_from(report: dict, max_paths: int = 4) -> list:
    """[{from, to, delay_ns, logic_ns, routing_ns, startpoint, endpoint, nets:[...]}] for each clock pair."""
    out = []
    for cp in (report or {}).get("critical_paths", [])[:max_paths]:
        segs = cp.get("path", [])
        total = sum(float(s.get("delay", 0)) for s in segs)
        logic = sum(float(s.get("delay", 0)) for s in segs if s.get("type") in ("logic", "clk-to-q", "setup",
                                                                                   "source"))
        routing = sum(float(s.get("delay", 0)) for s in segs if s.get("type") == "routing")
        nets = []
        for s in segs:
            if s.get("type") == "routing" and s.get("net"):
                n = _rtl_name(s["net"])
                if not nets or nets[-1] != n:
                    nets.append(n)
        cells = []
        for s in segs:
            c = _rtl_name((s.get("from") or {}).get("cell", ""))
            if c and (not cells or cells[-1] != c):
                cells.append(c)
        sources = []
        for s in segs:
            for src in s.get("sources") or []:
                src = re.sub(r"\.\d+-\d+\.\d+$", "", src)  # file:line.col-line.col -> file:line
                if src not in sources and not src.startswith("/share/"):
                    sources.append(src)
        out.append(dict(from_clock=cp.get("from", ""), to_clock=cp.get("to", ""), delay_ns=round(total, 3),
                        logic_ns=round(logic, 3), routing_ns=round(routing, 3), levels=sum(
                            1 for s in segs if s.get("type") == "logic"),
                        startpoint=_rtl_name(_endpoint((segs[0] if segs else {}).get("from"))),
                        endpoint=_rtl_name(_endpoint((segs[-1] if segs else {}).get("to"))), nets=nets,
                        cells=cells, sources=sources))
    return out


def format_critical_path(cp: dict, max_nets: int = 40) -> str:
    lines = [f"{cp['from_clock']} -> {cp['to_clock']}: {cp['delay_ns']:.2f} ns "
             f"({cp['logic_ns']:.2f} ns logic, {cp['routing_ns']:.2f} ns routing, {cp['levels']} logic levels)",
             f"  from {cp['startpoint']}", f"  to   {cp['endpoint']}"]
    nets = cp["nets"]
    if len(nets) > max_nets:
        nets = nets[: max_nets // 2] + ["..."] + nets[-max_nets // 2:]
    lines += [f"    via {n}" for n in nets]
    if cp.get("sources"):
        lines.append("  RTL: " + ", ".join(cp["sources"]))
    return "\n".join(lines)
