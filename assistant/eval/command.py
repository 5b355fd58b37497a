"""``assistant eval``: answer accuracy, abstention, citations, retrieval and latency on a QA file.

Every metric is defined in docs/evaluation.md. In short, per question: an *answerable*
question is correct when the answer is not an abstention and every requirement of ``must``
has an alternative regex that matches it (case-insensitive); an *unanswerable* one
(``abstain: true``) is handled right when the answer abstains. Gold articles are matched by
exact id or by path suffix, so gold ``seeds/a.txt`` matches source ``/abs/.../seeds/a.txt``.

Examples:
    assistant --data-dir /tmp/dvb eval tests/data/qa_dev.jsonl --baseline naive --out docs/eval
    assistant eval tests/data/qa_dev.jsonl --corpus seeds ../shared/corpora/vb-startup-funding/articles.jsonl
    assistant eval tests/data/qa_dev.jsonl --ids q001,u003 --backend extractive --fresh

Runs are resumable: each answered question is appended to ``OUT/progress.jsonl`` with a
fingerprint of the QA file, the settings, the corpus and the answering code, and a rerun
with the same fingerprint skips what is already there (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AssistantError
from .qa import SPLITS, load_qa, select
from .report import format_terminal, write_reports
from .run import evaluate

if TYPE_CHECKING:
    from ..config import Settings

DEFAULT_OUT = Path("eval-out")
NEEDS_EXTRA = "assistant eval needs the 'eval' extra: pip install 'startup-news-assistant[eval]'"
CHART_PACKAGES = ("matplotlib",)
BASELINE_PACKAGES = ("langchain_text_splitters", "langchain_chroma", "langchain_huggingface")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``assistant eval`` (the global --data-dir and --config come before it)."""
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("qa_file", type=Path, nargs="+", help="questions as JSON Lines (format: docs/evaluation.md)")
    parser.add_argument("--corpus", nargs="+", type=Path, default=[], metavar="PATH",
                        help="ingest these into a temporary data dir first (default: use the existing --data-dir)")
    parser.add_argument("--baseline", choices=("naive",), help="also run the naive LangChain RAG, side by side")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT}/)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--ids", help="only these ids, comma-separated (e.g. q001,u003)")
    parser.add_argument("--split", choices=SPLITS, help="only the questions of this split")
    parser.add_argument("--backend", choices=("embedded", "openai", "extractive"), help="override llm.backend")
    parser.add_argument("--fresh", action="store_true", help="ignore earlier progress in OUT and start over")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_from_args(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant eval``: run, print the tables, write JSON, Markdown and the chart."""
    require_extra(args.baseline)
    if args.corpus and getattr(args, "data_dir", None):
        raise AssistantError("give either --corpus (ingested into a temporary data dir) or --data-dir, not both")
    items = select([item for path in args.qa_file for item in load_qa(path)], args.ids, args.limit, args.split)

    def say(message: str) -> None:
        print(message, file=sys.stderr)  # noqa: T201

    run = evaluate(items, settings, qa_path=args.qa_file, out=args.out, corpus=args.corpus, baseline=args.baseline,
                   fresh=args.fresh, show_progress=not args.no_progress, log=say)
    command = "assistant " + " ".join(_quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    if "eval" not in command.split():
        command = ""  # called in-process (tests): sys.argv is not this command
    paths = write_reports(run, args.out, command)
    print(format_terminal(run))  # noqa: T201
    print(f"\nwrote {paths['json']}, {paths['markdown']}, {paths['chart']}")  # noqa: T201
    return 0


def missing_packages(baseline: str | None = None) -> list[str]:
    """The packages of the ``eval`` extra a run needs but cannot import: matplotlib, and the naive
    baseline's LangChain packages when it runs."""
    wanted = CHART_PACKAGES + (BASELINE_PACKAGES if baseline == "naive" else ())
    return [name for name in wanted if not _importable(name)]


def require_extra(baseline: str | None = None) -> None:
    """Raises:
        AssistantError: naming the ``eval`` extra and what is missing, before any work is done.
    """
    missing = missing_packages(baseline)
    if missing:
        raise AssistantError(f"{NEEDS_EXTRA} (missing: {', '.join(missing)})")


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package is missing, or a module without a spec
        return False


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./,:=@%+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"
