"""Measuring recorded audio with sox: loudness of a span and the length of a file."""

from __future__ import annotations

import subprocess
from pathlib import Path


def rms(path: Path, start: float, length: float) -> float:
    """The RMS amplitude (0..1) of ``length`` seconds from ``start``."""
    done = subprocess.run(
        ["sox", str(path), "-n", "trim", f"{start:.3f}", f"{length:.3f}", "stat"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(row for row in done.stderr.splitlines() if row.startswith("RMS     amplitude"))
    return float(line.split(":")[1])


def soxi_duration(path: Path) -> float:
    done = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True)
    return float(done.stdout)
