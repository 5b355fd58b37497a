"""Pass 2's two designs, on the questions whose first pass found nothing: windows or select-then-answer.

The engine's second look (``Engine._second_look``) shows the model up to three windows of the
top article around its best sentences and asks again. The other design the answer-quality issue
names is select-then-answer: number the sentences of those same windows, ask the model for the
numbers of the ones that state the answer, then write the answer from just those sentences, so
it is cited by construction (and checked by ``verify`` like any answer).

An eval's ``results.json`` (``--from``) says which questions went to a second look ("[second
look]" in the raw reply) and how the windows design answered them. This script answers the same
single questions (comparisons and multi-part questions, whose parts each take their own look, are
left out) with select-then-answer, scores both designs the same way (``eval.qa`` requirements:
an answerable question is right when answered with every required fact, an unanswerable one when
declined) and prints one row per split. Run it with the code and store the eval ran with.

Usage (from the repo root; ~25 s a question on 2 cores):
    PYTHONPATH=<worktree> .venv/bin/python bench/second_look.py --data-dir /tmp/evalstore \\
        --from /tmp/eval/results.json tests/data/qa_dev.jsonl tests/data/qa_tech.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bench.report import markdown_table  # noqa: E402

if TYPE_CHECKING:
    from assistant.chain import Engine
    from assistant.documents import Passage
    from assistant.query import Question

SELECT = ("Sentences of the article \"{title}\" ({date}):\n{sentences}\n\nQuestion: {question}\n"
          "Which sentences state the answer? Reply with the numbers of those sentences, separated by "
          "commas, and nothing else. If no sentence states it, reply: none")


def select_then_answer(engine: Engine, asked: Question, windows: list[Passage]) -> tuple[str, bool, str]:
    """(answer text, abstained, the selected sentences' text) for one question."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.generation import Turn, check_reply
    from assistant.prompting import SYSTEM_PROMPT
    from assistant.text import split_sentences

    sentences = [replace(w, text=w.text[s:e], start=w.start + s, end=w.start + e)
                 for w in windows for s, e in split_sentences(w.text)]
    numbered = "\n".join(f"({n}) {p.text}" for n, p in enumerate(sentences, 1))
    prompt = SELECT.format(title=windows[0].title, date=windows[0].date, sentences=numbered, question=asked.text)
    reply = engine.chat_model.invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(prompt)], max_tokens=24)
    picked = [sentences[n - 1] for n in dict.fromkeys(int(x) for x in re.findall(r"\d+", str(reply.content)))
              if 1 <= n <= len(sentences)]
    if not picked:
        return "", True, ""
    write = engine.writer.write(asked, picked, Turn(time.perf_counter()))
    while True:
        try:
            next(write)
        except StopIteration as done:
            written = done.value
            break
    checked = check_reply(written, asked, engine.store.article_text)
    return checked.text, checked.declined, " ".join(p.text for p in picked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("qa", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--from", dest="results", type=Path, required=True, help="an eval's results.json")
    args = parser.parse_args(argv)

    from assistant.chain import Engine
    from assistant.config import load_settings
    from assistant.eval.qa import load_qa, split_of, unmet_requirements

    items = {item.id: item for path in args.qa for item in load_qa(path)}
    looked = [r for r in json.loads(args.results.read_text())["results"]["engine"]
              if "[second look]" in r["raw"] and r["turns"] == 1 and r["id"] in items]
    engine = Engine.from_settings(load_settings(data_dir=args.data_dir))
    tally: dict[str, list[int]] = {}  # split -> [questions, windows right, select right, selection holds answer]
    for result in looked:
        item = items[result["id"]]
        asked = engine.read(item.question)
        if asked.members or asked.parts:
            continue
        windows = engine._second_look(asked, engine.retriever.search(asked))
        if not windows:
            continue
        text, abstained, selected = select_then_answer(engine, asked, windows)
        right = abstained if item.abstain else not abstained and not unmet_requirements(text, item.must)
        holds = not item.abstain and bool(selected) and not unmet_requirements(selected, item.must)
        counts = tally.setdefault(split_of(item.id), [0, 0, 0, 0])
        for i, value in enumerate((1, result["ok"], right, holds)):
            counts[i] += int(value)
        print(f"{item.id} {split_of(item.id)} windows={result['ok']} select={right} | {text[:100]!r}", flush=True)
    header = ["split", "questions", "windows right", "select-then-answer right", "selected sentences hold the answer"]
    print(markdown_table(header, [[split, *map(str, counts)] for split, counts in sorted(tally.items())]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
