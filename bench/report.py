"""Printing and recording helpers shared by the bench scripts."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths)), "-|-".join("-" * w for w in widths)]
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def append_section(title: str, body: str) -> None:
    """Append a dated section to docs/benchmarks.md (created with its preamble when missing)."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    if not DOC.exists():
        DOC.write_text("# Benchmarks\n\nDated sections, newest last, appended by `bench/*.py` (see bench/README.md). "
                       "Timings come from a shared machine: compare ratios measured in the same run, not "
                       "absolute numbers across sections.\n", encoding="utf-8")
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    with DOC.open("a", encoding="utf-8") as f:
        f.write(f"\n## {stamp}: {title} ({os.cpu_count()} cores)\n\n{body.strip()}\n")
