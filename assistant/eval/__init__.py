"""The evaluator behind ``assistant eval`` (install the ``eval`` extra to run it; importing needs none of it).

Modules, by job:
    qa       the QA file, the tune/check split, selection, gold and requirement matching
    score    one scored answer (``Result``) and every metric over many (``summarize``)
    run      answering with the engine and the baseline, resumable, fingerprinted (``evaluate``)
    report   the terminal tables, results.json, report.md and its chart (matplotlib, imported lazily)
    command  the ``assistant eval`` options and entry point
    naive    the naive LangChain RAG baseline (its LangChain packages are imported lazily)

Every metric is defined in docs/evaluation.md.

Example:
    import assistant.eval as ev
    items = ev.select(ev.load_qa(Path("tests/data/qa_dev.jsonl")), split="check")
    run = ev.evaluate(items, load_settings(), qa_path=Path("tests/data/qa_dev.jsonl"), out=Path("eval-out"))
    ev.write_reports(run, Path("eval-out"))
"""

from ..errors import AssistantError
from .command import (
    BASELINE_PACKAGES,
    CHART_PACKAGES,
    DEFAULT_OUT,
    NEEDS_EXTRA,
    add_arguments,
    missing_packages,
    require_extra,
    run_from_args,
)
from .qa import (
    HIT_KS,
    MULTI_TYPES,
    RETRIEVAL_K,
    SPLITS,
    STYLES,
    TYPES,
    QAItem,
    first_gold_rank,
    hit_at,
    is_gold,
    load_qa,
    reciprocal_rank,
    requirement_met,
    select,
    split_of,
    unmet_requirements,
)
from .report import (
    CHART,
    failure_detail,
    format_markdown,
    format_table,
    format_terminal,
    headline_rows,
    write_chart,
    write_reports,
)
from .run import (
    PROGRESS,
    SYSTEMS,
    Progress,
    Run,
    answer_with_engine,
    answer_with_naive,
    code_fingerprint,
    corpus_files,
    evaluate,
    fingerprint,
    settings_fingerprint,
)
from .score import Result, failure_reason, failures, percentile, rate, score, summarize, unique

__all__ = [
    "AssistantError", "BASELINE_PACKAGES", "CHART", "CHART_PACKAGES", "DEFAULT_OUT", "HIT_KS", "MULTI_TYPES",
    "NEEDS_EXTRA", "PROGRESS", "RETRIEVAL_K", "SPLITS", "STYLES", "SYSTEMS", "TYPES", "Progress", "QAItem", "Result",
    "Run", "add_arguments", "answer_with_engine", "answer_with_naive", "code_fingerprint", "corpus_files",
    "evaluate", "failure_detail", "failure_reason", "failures", "fingerprint", "first_gold_rank", "format_markdown",
    "format_table", "format_terminal", "headline_rows", "hit_at", "is_gold", "load_qa", "missing_packages",
    "percentile", "rate", "reciprocal_rank", "require_extra", "requirement_met", "run_from_args", "score",
    "select", "settings_fingerprint", "split_of", "summarize", "unique", "unmet_requirements", "write_chart",
    "write_reports",
]
