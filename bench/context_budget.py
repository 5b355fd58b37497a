"""The first pass's context budget against answer quality and latency: one eval per budget.

Runs ``assistant eval`` once per budget (``ASSISTANT_RETRIEVAL_CONTEXT_CHARS``), on the same
questions and store, each into ``OUT/budget-N`` (resumable, like any eval). The second look
keeps its default. Prints one row per budget
from each run's ``results.json`` and appends it to docs/benchmarks.md.

Usage (from the repo root; ~20 s per question per budget on 2 cores):
    .venv/bin/python bench/context_budget.py --data-dir /tmp/evalstore --out /tmp/budget \\
        --budgets 1800,3000,4500 --split check tests/data/qa_dev.jsonl tests/data/qa_tech.jsonl
    # --ids a,b,c instead of --split for a sample; --table-only to print finished runs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.report import append_section, markdown_table, table  # noqa: E402


def run(budget: int, args: argparse.Namespace) -> Path:
    out = args.out / f"budget-{budget}"
    env = dict(os.environ, ASSISTANT_RETRIEVAL_CONTEXT_CHARS=str(budget))
    # The console script, not "-m": it adds no working directory to the path, so PYTHONPATH can
    # point the runs at a frozen worktree while this script lives in another.
    command = [str(Path(sys.executable).parent / "assistant"), "--data-dir", str(args.data_dir), "eval",
               *map(str, args.qa), "--out", str(out), "--no-progress"]
    command += ["--ids", args.ids] if args.ids else ["--split", args.split] if args.split else []
    subprocess.run(command, env=env, check=True)
    return out


def row(budget: int, out: Path) -> list[str]:
    summary = json.loads((out / "results.json").read_text())["summary"]["engine"]
    latency = summary["latency"]["total_s"]
    return [f"{budget:,}", str(summary["n"]),
            f"{summary['accuracy']:.1%} ({summary['n_correct']}/{summary['n_answerable']})",
            f"{summary['correct_abstention_rate']:.1%}", f"{summary['false_abstention_rate']:.1%}",
            f"{summary['citation_precision']:.1%}", f"{latency['p50']:.1f}", f"{latency['p95']:.1f}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("qa", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budgets", default="1800,3000,4500")
    parser.add_argument("--split", choices=["tune", "check"])
    parser.add_argument("--ids", help="comma-separated question ids (a sample) instead of a split")
    parser.add_argument("--table-only", action="store_true", help="print the runs already in OUT")
    parser.add_argument("--no-record", action="store_true", help="don't append to docs/benchmarks.md")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    outs = {b: args.out / f"budget-{b}" if args.table_only else run(b, args) for b in budgets}
    header = ["first-pass chars", "questions", "accuracy", "correct abstention", "false abstention",
              "citation precision", "total p50 s", "total p95 s"]
    rows = [row(b, out) for b, out in outs.items()]
    print(table(header, rows))
    if not args.no_record:
        chosen = f"ids {args.ids}" if args.ids else f"the {args.split or 'whole'} split"
        append_section("first-pass context budget", f"`bench/context_budget.py --budgets {args.budgets}` on "
                       f"{chosen} of {', '.join(p.name for p in args.qa)}, embedded LLM, one run per "
                       f"budget.\n\n" + markdown_table(header, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
