"""What every benchmark writes into benchmarks/RESULTS.md: the machine, and its own section."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``"unknown CPU"`` where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def machine_description() -> str:
    """Cores, CPU, OS and the load average at the start (the machine may be shared)."""
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{os.cpu_count()} cores (nproc), {cpu_model()}, {platform.system()} "
        f"{platform.release()}; load average at start {load} (the machine is shared with other "
        "jobs)"
    )


def write_section(path: Path, section: str, start: str, end: str) -> None:
    """Replace the ``start`` ... ``end`` block of ``path`` with ``section`` (which carries both
    markers), or append it when the file has no such block yet."""
    text = path.read_text() if path.exists() else ""
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    path.write_text(text)
