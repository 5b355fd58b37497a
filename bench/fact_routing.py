"""Which questions of a QA set the fact table answers instead of retrieval, and whether rightly.

For each question (the last turn of a conversation), read it as the engine does, see whether
``aggregate.read_aggregate`` takes it, and if the table has rows, score the table's answer
against the item's requirements. Prints one line per routed question with its split, and the
result of the last committed eval (``docs/eval/results.json``) for comparison. No LLM runs.

Usage (from the repo root, on a store with the corpus the QA set is about):
    .venv/bin/python bench/fact_routing.py --data-dir /tmp/evalstore tests/data/qa_dev.jsonl tests/data/qa_tech.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from assistant.aggregate import read_aggregate  # noqa: E402
from assistant.eval.qa import requirement_met, split_of  # noqa: E402
from assistant.facttable import is_party, known_as_investor  # noqa: E402
from assistant.query import read_question  # noqa: E402
from assistant.store import Store  # noqa: E402
from assistant.table_answers import answer_aggregate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("qa", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    store = Store(args.data_dir)
    lexicon = store.lexicon()
    results = ROOT / "docs" / "eval" / "results.json"
    before = {r["id"]: r for r in json.loads(results.read_text())["results"].get("engine", [])} \
        if results.exists() else {}
    total = routed = 0
    for path in args.qa:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            question = item.get("question") or item["turns"][-1]
            total += 1
            asked = read_question(question, lexicon)
            aggregate = read_aggregate(asked, lambda name: is_party(store, name, exact=True),
                                       lambda name: known_as_investor(store, name))
            if aggregate is None:
                continue
            routed += 1
            answer = answer_aggregate(store, asked)
            if answer is None:
                outcome = "no rows: retrieval answers"
            else:
                right = not item["abstain"] and all(requirement_met(answer.text, alts) for alts in item["must"])
                outcome = "table, right" if right else "table, wrong"
            print(f"{split_of(item['id'])}  {item['id']}  {aggregate.op}  {outcome}  "
                  f"(last eval: {before.get(item['id'], {}).get('ok')})  {question[:90]}")
    print(f"{routed} of {total} questions read as aggregate questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
