"""Reports: the terminal tables, ``results.json``, ``report.md`` and its chart (matplotlib, imported lazily)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .qa import HIT_KS, RETRIEVAL_K, SPLITS, STYLES, is_gold, split_of
from .run import Run
from .score import Result, failures, rate, summarize

CHART = "accuracy_by_type.png"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _delta_pct(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{100 * (a - b):+.1f} pp"


def _delta_secs(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "–"
    ratio = f" (×{a / b:.2f})" if b else ""
    return f"{a - b:+.2f} s{ratio}"


def headline_rows(summary: dict[str, Any]) -> list[tuple[str, str, float | None, str]]:
    """``(metric, kind, value, count)`` rows of the headline table; kind is ``pct`` or ``secs``."""
    s, ret, lat = summary, summary["retrieval"], summary["latency"]
    rows = [
        ("answer accuracy (answerable)", "pct", s["accuracy"], f"{s['n_correct']}/{s['n_answerable']}"),
        ("all questions handled right", "pct", s["overall"], f"{s['n_ok']}/{s['n']}"),
        ("correct abstention (unanswerable)", "pct", s["correct_abstention_rate"],
         f"{s['n_correct_abstentions']}/{s['n_unanswerable']}"),
        ("false abstention (answerable)", "pct", s["false_abstention_rate"],
         f"{s['n_false_abstentions']}/{s['n_answerable']}"),
        ("citation precision (micro)", "pct", s["citation_precision"], f"{s['n_gold_citations']}/{s['n_citations']}"),
        ("citation coverage (correct answers)", "pct", s["citation_coverage"], f"{s['n_covered']}/{s['n_correct']}"),
        ("conversation accuracy", "pct", s["conversation_accuracy"], f"n={s['n_conversations']}"),
    ]
    rows += [(f"retrieval Hit@{k}", "pct", ret[f"hit@{k}"], f"n={ret['n']}") for k in HIT_KS]
    rows.append((f"retrieval MRR@{RETRIEVAL_K}", "pct", ret[f"mrr@{RETRIEVAL_K}"], f"n={ret['n']}"))
    rows.append(("gold article in model context", "pct", ret["gold_in_context"], f"n={ret['n']}"))
    rows.append(("answer text in retrieved passages", "pct", ret.get("answer_in_passages"),
                 f"n={ret.get('n_answer_in_passages', 0)}"))
    for name, label in (("retrieve_s", "retrieve"), ("first_token_s", "first token"), ("total_s", "total")):
        for q in ("p50", "p95"):
            rows.append((f"latency {label} {q}", "secs", lat[name][q], f"n={lat[name]['n']}"))
    return rows


def _compare_rows(run: Run) -> tuple[list[str], list[list[str]]]:
    systems = list(run.summaries)
    header = ["metric"] + systems + (["Δ engine − naive"] if len(systems) == 2 else [])
    per = {s: headline_rows(run.summaries[s]) for s in systems}
    rows = []
    for i, (metric, kind, _, _) in enumerate(per["engine"]):
        fmt = _pct if kind == "pct" else _secs
        if metric.startswith("retrieval MRR"):
            fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
        cells = [metric]
        for s in systems:
            _, _, value, count = per[s][i]
            cells.append(f"{fmt(value)} ({count})" if kind == "pct" and not metric.startswith("retrieval MRR")
                         else fmt(value))
        if len(systems) == 2:
            a, b = per["engine"][i][2], per["naive"][i][2]
            if metric.startswith("retrieval MRR"):
                cells.append("–" if a is None or b is None else f"{a - b:+.3f}")
            else:
                cells.append(_delta_pct(a, b) if kind == "pct" else _delta_secs(a, b))
        rows.append(cells)
    return header, rows


_SPLIT_METRICS = (
    ("answer accuracy", "accuracy", "n_correct", "n_answerable"),
    ("correct abstention", "correct_abstention_rate", "n_correct_abstentions", "n_unanswerable"),
    ("false abstention", "false_abstention_rate", "n_false_abstentions", "n_answerable"),
    ("citation precision", "citation_precision", "n_gold_citations", "n_citations"),
    ("multi-article and comparison", "multi_accuracy", "n_multi_ok", "n_multi"),
    ("conversations", "conversation_accuracy", None, "n_conversations"),
)


def _split_rows(run: Run) -> tuple[list[str], list[list[str]]]:
    """Each headline metric on the tune and the check split, for every system."""
    systems = list(run.results)
    header = ["metric"] + [f"{s} {split}" for s in systems for split in SPLITS]
    summaries = {(s, split): summarize([r for r in run.results[s] if split_of(r.id) == split])
                 for s in systems for split in SPLITS}
    rows = []
    for label, key, num, den in _SPLIT_METRICS:
        cells = [label]
        for s in systems:
            for split in SPLITS:
                m = summaries[(s, split)]
                count = f"{m[num]}/{m[den]}" if num else f"n={m[den]}"
                cells.append(f"{_pct(m[key])} ({count})")
        rows.append(cells)
    for style in STYLES:
        cells = [f"typed {style}"]
        for s in systems:
            for split in SPLITS:
                group = [r for r in run.results[s] if split_of(r.id) == split and style in r.style]
                cells.append(f"{_pct(rate(sum(r.ok for r in group), len(group)))} "
                             f"({sum(r.ok for r in group)}/{len(group)})")
        rows.append(cells)
    for q in ("p50", "p95"):
        rows.append([f"total latency {q}"] + [_secs(summaries[(s, split)]["latency"]["total_s"][q])
                                               for s in systems for split in SPLITS])
    return header, rows


def _type_rows(run: Run) -> tuple[list[str], list[list[str]]]:
    systems = list(run.summaries)
    header = ["type", "n"]
    for s in systems:
        header += [f"{s} right", f"{s} abstained"]
    kinds = list(run.summaries["engine"]["by_type"])
    rows = []
    for kind in kinds:
        cells = [kind, str(run.summaries["engine"]["by_type"][kind]["n"])]
        for s in systems:
            t = run.summaries[s]["by_type"][kind]
            cells += [f"{_pct(t['accuracy'])} ({t['ok']})", f"{_pct(t['abstention_rate'])} ({t['abstained']})"]
        rows.append(cells)
    return header, rows


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned text table."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=False)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) for row in rows]
    return "\n".join(out)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def format_terminal(run: Run) -> str:
    """The tables printed at the end of a run."""
    parts = [format_table(*_split_rows(run)), "", format_table(*_compare_rows(run)), "",
             format_table(*_type_rows(run))]
    for system, results in run.results.items():
        failed = [r for r in failures(results) if split_of(r.id) == "tune"]
        parts += ["", f"{system}: {len(failed)} failure(s) on the tune split"]
        parts += [f"  {r.id:<6} {r.reason:<16} {_short(r.question, 60):<60}  -> {_short(r.answer, 70)}"
                  + (f"  [{r.stage}]" if r.stage else "") for r in failed]
    for system, why in run.skipped.items():
        parts += ["", f"{system}: skipped ({why})"]
    return "\n".join(parts)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def failure_detail(result: Result) -> str:
    """What to look at: where an abstention came from, or the requirements an answer missed."""
    if result.abstained:
        if result.stage == "model declined":
            detail = f"model declined: “{_short(result.raw, 160)}”"
        elif result.stage == "verifier":
            detail = f"verifier removed: “{_short(' '.join(result.removed), 160)}”"
        else:
            detail = result.stage
        if result.answer_in_passages is not None and result.reason != "retrieval miss":
            detail += "; answer " + ("in" if result.answer_in_passages else "not in") + " the retrieved passages"
        return detail
    if not result.answerable:
        return "should abstain" + (f"; model said “{_short(result.raw, 120)}”" if result.raw != result.answer else "")
    detail = "; ".join(" or ".join(f"`{a}`" for a in req) for req in result.unmet)
    if result.removed:
        detail += f"; verifier removed: “{_short(' '.join(result.removed), 120)}”"
    missing = [g for g in result.gold if not any(is_gold(s, [g]) for s in result.context)]
    if missing and len(missing) < len(result.gold):  # all missing is already the reason "retrieval miss"
        detail += f"; not in context: {', '.join(missing)}"
    if result.answer_in_passages is False and result.reason != "retrieval miss":
        detail += "; answer not in the retrieved passages"
    return detail


def _failure_rows(results: Sequence[Result]) -> list[list[str]]:
    return [[r.id, r.type, r.reason, _short(r.question, 140), _short(r.answer, 240) or "(empty)", failure_detail(r)]
            for r in failures(results)]


def format_markdown(run: Run, command: str = "") -> str:
    """The Markdown report (its chart is ``accuracy_by_type.png`` next to it)."""
    m = run.meta
    lines = [
        "# Evaluation report", "",
        f"- Date: {m['date']}" + (f", commit `{m['commit']}`" if m.get("commit") else ""),
        f"- QA file: `{m['qa_file']}`, {m['n_items']} question(s)",
        f"- Store: {m['articles']} articles, {m['chunks']} chunks"
        + (f" (corpus: {', '.join(f'`{c}`' for c in m['corpus'])})" if m.get("corpus") else ""),
        f"- Engine model: `{m['model']}`; baseline: {m.get('baseline') or 'none'}; machine: {m['cpu_count']} cores",
    ]
    if command:
        lines.append(f"- Command: `{command}`")
    lines += ["", "Metrics are defined in [docs/evaluation.md](../evaluation.md). Counts in brackets.", "",
              "## Tune and check splits", "",
              "Questions are split by a fixed hash of their id. Failures are read on **tune** only (listed "
              "below); **check** is the honest number.", "", _md_table(*_split_rows(run)), "",
              "## Headline (both splits)", "", _md_table(*_compare_rows(run)), "",
              "## By question type", "",
              "\"Right\" is answer accuracy for answerable types and correct abstention for `unanswerable`.", "",
              _md_table(*_type_rows(run)), "", f"![accuracy and abstention by type]({CHART})", ""]
    for system, results in run.results.items():
        s = run.summaries[system]
        reasons = ", ".join(f"{k} {v}" for k, v in s["failure_reasons"].items() if v) or "none"
        lines += [f"## Failures: {system} ({s['n_failed']}: {reasons}); tune split listed", ""]
        rows = _failure_rows([r for r in results if split_of(r.id) == "tune"])
        stages = ", ".join(f"{k} {v}" for k, v in s["false_abstention_stages"].items())
        if stages:
            lines += [f"Abstentions on answerable questions by stage: {stages}.", ""]
        lines += [_md_table(["id", "type", "why", "question", "answer given", "detail"], rows)
                  if rows else "No failures.", ""]
    for system, why in run.skipped.items():
        lines += [f"The {system} baseline was skipped: {why}.", ""]
    return "\n".join(lines)


def write_chart(run: Run, path: Path) -> None:
    """Accuracy and abstention by question type, one bar group per type (PNG, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(run.summaries["engine"]["by_type"])
    series = []
    for system in run.summaries:
        by_type = run.summaries[system]["by_type"]
        series.append((f"{system}: right", [100 * (by_type[k]["accuracy"] or 0) for k in kinds], system, ""))
        series.append((f"{system}: abstained", [100 * (by_type[k]["abstention_rate"] or 0) for k in kinds],
                       system, "//"))
    colours = {"engine": ("#1f77b4", "#aec7e8"), "naive": ("#ff7f0e", "#ffbb78")}
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.2 * len(kinds)), 4.2), dpi=110)
    for i, (label, values, system, hatch) in enumerate(series):
        colour = colours.get(system, ("#777777", "#bbbbbb"))[1 if hatch else 0]
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(kinds))]
        ax.bar(xs, values, width, label=label, color=colour, hatch=hatch, edgecolor="white", linewidth=0.5)
    ax.set_xticks(range(len(kinds)))
    ax.set_xticklabels([f"{k}\n(n={run.summaries['engine']['by_type'][k]['n']})" for k in kinds], fontsize=8)
    ax.set_ylabel("% of questions")
    ax.set_ylim(0, 105)
    ax.set_title("Right answers (abstentions for unanswerable) and abstentions by type", fontsize=10)
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(0, -0.18))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_reports(run: Run, out: Path, command: str = "") -> dict[str, Path]:
    """``results.json``, ``report.md`` and the chart in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "report.md", "chart": out / CHART}
    deltas = {}
    if len(run.summaries) == 2:
        deltas = {metric: (None if a is None or b is None else a - b)
                  for (metric, _, a, _), (_, _, b, _) in zip(headline_rows(run.summaries["engine"]),
                                                             headline_rows(run.summaries["naive"]), strict=True)}
    payload = {"meta": {**run.meta, "command": command}, "summary": run.summaries,
               "delta_engine_minus_naive": deltas, "skipped": run.skipped,
               "results": {s: [r.to_dict() | {"reason": r.reason, "stage": r.stage} for r in rs]
                           for s, rs in run.results.items()}}
    paths["json"].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["markdown"].write_text(format_markdown(run, command) + "\n", encoding="utf-8")
    write_chart(run, paths["chart"])
    return paths
