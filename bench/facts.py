"""Event extraction against hand labels: field-level precision and recall, on the tune and check splits.

The labels (tests/data/facts_gold.jsonl, docs/eval/facts-labels.md) were written before the
extractor was run on them. Each field is scored as a set of facts per article: a round's amount
is (article, company, amount), its round name (article, company, name), each lead investor
(article, company, investor); an acquisition is (article, acquirer, target), its price
(article, target, price). A predicted fact is right when the labels hold a matching one: the
same article, company names that agree (one's words lead the other's: "Zebra" and "Zebra
Technologies"), amounts within 1%. Labels marked ``cumulative`` (a "has raised $X" that may add up
several rounds) are not rounds and are left out. Articles fall in the tune or check split by a hash of their
id (``assistant.eval.split_of``); ``--failures`` lists the misses of the tune split only.

A second label file (tests/data/facts_gold_acquisitions.jsonl) holds acquisition articles met after
the first 100 in the same sha256 walk; only their acquisitions were labelled, so only acquisition
fields are scored there, and the table reports the two files apart and together.

Usage (from the repo root):
    .venv/bin/python bench/facts.py                 # both splits, a table
    .venv/bin/python bench/facts.py --failures      # and what the tune split got wrong
    .venv/bin/python bench/facts.py --record        # and write docs/eval/facts.md's extraction table
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from assistant.entities import core_name  # noqa: E402
from assistant.eval.qa import split_of  # noqa: E402
from assistant.event_reader import extract_events  # noqa: E402
from assistant.events import ACQUISITION, KINDS, ROUND, Event, same_company  # noqa: E402
from ingest.load import load_file  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"
GOLD = ROOT / "tests" / "data" / "facts_gold.jsonl"
GOLD_ACQUISITIONS = ROOT / "tests" / "data" / "facts_gold_acquisitions.jsonl"
TARGETS = {"round amount": (0.9, 0.8), "round name": (0.9, 0.8), "lead investor": (0.9, 0.8),
           "acquirer + target": (0.9, None), "acquisition price": (0.9, None)}
ACQUISITION_FIELDS = ("acquirer + target", "acquisition price")

Fact = tuple  # (article id, kind of fact, key names..., value)


def facts_of_gold(article_id: str, events: Iterable[dict]) -> list[Fact]:
    found: list[Fact] = []
    for e in events:
        if e.get("cumulative"):  # "has raised $X to date": a total, maybe of several rounds, not a round
            continue
        if e["kind"] == ROUND and e.get("company"):
            company = e["company"]
            if e.get("amount"):
                found.append((article_id, "round amount", company, float(e["amount"])))
            if e.get("round"):
                found.append((article_id, "round name", company, _round(e["round"])))
            found += [(article_id, "lead investor", company, name) for name in e.get("lead_investors") or []]
        elif e["kind"] == ACQUISITION and e.get("acquirer") and e.get("target"):
            found.append((article_id, "acquirer + target", e["acquirer"], e["target"]))
            if e.get("price"):
                found.append((article_id, "acquisition price", e["target"], float(e["price"])))
    return found


def facts_of_events(article_id: str, events: Iterable[Event]) -> list[Fact]:
    found: list[Fact] = []
    for e in events:
        if e.kind == ROUND:
            found.append((article_id, "round amount", e.company, float(e.amount or 0)))
            if e.value("round"):
                found.append((article_id, "round name", e.company, _round(e.value("round"))))
            found += [(article_id, "lead investor", e.company, name) for name in e.names("lead_investors")]
        elif e.kind == ACQUISITION:
            found.append((article_id, "acquirer + target", e.value("acquirer"), e.value("target")))
            if e.amount:
                found.append((article_id, "acquisition price", e.value("target"), float(e.amount)))
    return found


def _round(name: str) -> str:
    return " ".join(name.lower().replace("-", " ").replace("round", "").split())


def _agree(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 0.01 * max(a, b)
    if isinstance(a, str) and isinstance(b, str):
        return same_company(a, b) or core_name(a) == core_name(b)
    return a == b


def matches(fact: Fact, pool: list[Fact]) -> bool:
    return any(fact[:2] == other[:2] and all(_agree(x, y) for x, y in zip(fact[2:], other[2:], strict=True))
               for other in pool)


def score(predicted: list[Fact], gold: list[Fact], kind: str) -> tuple[int, int, int, int]:
    """(right predictions, predictions, found gold facts, gold facts) for one kind of fact."""
    pred = [f for f in predicted if f[1] == kind]
    want = [f for f in gold if f[1] == kind]
    return (sum(matches(f, want) for f in pred), len(pred), sum(matches(f, pred) for f in want), len(want))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failures", action="store_true", help="list the tune split's misses")
    parser.add_argument("--record", action="store_true", help="write the table to docs/eval/facts.md")
    args = parser.parse_args(argv)

    labels = _labels(GOLD)
    acquisition_labels = _labels(GOLD_ACQUISITIONS, only=ACQUISITION)
    wanted = {item["id"] for item in labels + acquisition_labels}
    corpus = load_file(CORPUS, 10**9).articles
    started = time.perf_counter()
    everything = {a.ref: extract_events(a.title, a.text, a.date) for a in corpus}
    extract_s = time.perf_counter() - started
    predicted = {ref: events for ref, events in everything.items() if ref in wanted}
    counts = {kind: sum(e.kind == kind for events in everything.values() for e in events)
              for kind in KINDS}

    table = "\n".join([_table("first 100", labels, predicted, TARGETS),
                       _table("acquisition articles", acquisition_labels, predicted, ACQUISITION_FIELDS, header=False),
                       _table("both", labels + acquisition_labels, predicted, ACQUISITION_FIELDS, header=False)])
    print(table)
    speed = (f"Extraction of the whole corpus ({len(corpus):,} articles, one process): {extract_s:.1f} s; events: "
             + ", ".join(f"{n:,} {kind}s" for kind, n in counts.items()) + ".")
    table += "\n\n" + speed
    print(speed)
    if args.failures:
        _print_failures(labels + acquisition_labels, predicted, lambda i: split_of(i["id"]) == "tune")
    if args.record:
        _record(table)
    return 0


def _labels(path: Path, only: str | None = None) -> list[dict]:
    """Label lines; ``only`` marks a file where one kind of event was labelled, so the others go unscored."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{**item, "only": only} for item in items]


def _table(labels_name: str, labels: list[dict], predicted: dict[str, list[Event]], fields: Iterable[str],
           header: bool = True) -> str:
    lines = ["| labels | split | field | articles | precision | recall | target (P / R) |",
             "|---|---|---|---|---|---|---|"] if header else []
    for split in ("tune", "check", "all"):
        items = [i for i in labels if split == "all" or split_of(i["id"]) == split]
        pred = [f for i in items for f in facts_of_events(i["id"], _scored(i, predicted))]
        gold = [f for i in items for f in facts_of_gold(i["id"], i["events"])]
        for kind in fields:
            right, n_pred, found, n_gold = score(pred, gold, kind)
            p_target, r_target = TARGETS[kind]
            target = f"≥ {p_target:.0%} / " + (f"≥ {r_target:.0%}" if r_target else "-")
            lines.append(f"| {labels_name} | {split} | {kind} | {len(items)} | {_pct(right, n_pred)} | "
                         f"{_pct(found, n_gold)} | {target} |")
    return "\n".join(lines)


def _scored(item: dict, predicted: dict[str, list[Event]]) -> list[Event]:
    return [e for e in predicted[item["id"]] if item["only"] in (None, e.kind)]


def _pct(a: int, b: int) -> str:
    return f"{a / b:.1%} ({a}/{b})" if b else "-"


def _print_failures(labels: list[dict], predicted: dict[str, list[Event]], keep: Callable[[dict], bool]) -> None:
    for item in labels:
        if not keep(item):
            continue
        pred = facts_of_events(item["id"], _scored(item, predicted))
        gold = facts_of_gold(item["id"], item["events"])
        wrong = [f for f in pred if not matches(f, gold)]
        missed = [f for f in gold if not matches(f, pred)]
        if wrong or missed:
            print(f"\n{item['id']}")
            for f in wrong:
                print("  extra  ", f[1:])
            for f in missed:
                print("  missed ", f[1:])


def _record(table: str) -> None:
    path = ROOT / "docs" / "eval" / "facts.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = "<!-- extraction:start -->", "<!-- extraction:end -->"
    block = f"{start}\n{table}\n{end}"
    if start in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = (text or "# Startup facts: evaluation\n\n") + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
