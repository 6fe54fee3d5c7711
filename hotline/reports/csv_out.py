"""Reports as CSV: one line per row; the header line names every column, so the
``service_level_formula`` column says which definition the figures use. Pause time by reason
becomes one ``pause_s.<reason>`` column per reason seen in the report."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    reasons = sorted({r for row in rows for r in row.get("pause_by_reason", {})})
    columns = [c for c in (rows[0] if rows else {}) if c != "pause_by_reason"]
    columns += [f"pause_s.{r}" for r in reasons]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        flat = {k: v for k, v in row.items() if k != "pause_by_reason"}
        for reason, seconds in row.get("pause_by_reason", {}).items():
            flat[f"pause_s.{reason}"] = seconds
        writer.writerow(["" if flat.get(c) is None else flat.get(c) for c in columns])
    return out.getvalue()
