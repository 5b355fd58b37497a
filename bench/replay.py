"""Re-check an eval's recorded model replies under the current code, with no LLM.

Decoding is greedy, so the model's reply to a prompt does not change from run to run. A change
to what comes after the model (the verifier, the decline rules, conflicting figures) can then be
measured on every question of an eval in seconds: each single question is asked again through
the real engine (real retrieval over the same store), with a fake chat model that replays the
reply recorded in ``results.json`` (pass 1, then pass 2 when there was a second look), and is
scored again.

The recorded replies must come from the same prompts: an eval run by code with the same
retrieval, context fitting and second look as the code replaying them (a change to any of those
needs a new eval). What it cannot replay is left out or flagged:
- comparisons, multi-part questions and conversations (several model calls per question, whose
  replies ``results.json`` keeps joined) are left out;
- a question the new code sends to a second look that the recorded run did not take gets the
  decline reply for it, and is counted under "new second look" (the model might have answered).

``--ablate NAME`` switches one verifier rule off first (``ABLATIONS``), to see what it is worth
on each split: a rule that helps tune but not check should go.

Usage (from the repo root, with the store the eval ran on; ~1 s a question):
    .venv/bin/python bench/replay.py --data-dir /tmp/evalstore --from docs/eval/results.json \\
        tests/data/qa_dev.jsonl tests/data/qa_tech.jsonl [--ablate relation]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bench.report import markdown_table  # noqa: E402

SECOND_LOOK = "\n[second look]\n"  # how eval.run records the restart of a reply
SINGLE = {"amount", "investor", "acquisition", "date", "entity", "who", "what", "when", "where", "yesno",
          "unanswerable"}


def _ablate(name: str) -> None:
    """Switch one rule off by replacing the function that applies it."""
    from assistant import chain, verify

    relation = verify._states_relation
    module, attr, replacement = {
        "relation": (verify, "_states_relation", lambda *a: True),
        "relation-amount": (verify, "_states_relation",
                            lambda s, p, asked: relation(s, p, asked) if asked.facts == "name" else True),
        "relation-name": (verify, "_states_relation",
                          lambda s, p, asked: True if asked.facts == "name" else relation(s, p, asked)),
        "count": (verify, "_states_count", lambda *a: True),
        "restatement": (verify, "adds_facts", lambda *a, **k: True),
        "conflicting-figures": (chain, "conflicting_figures", lambda checked, *a: checked),
    }[name]
    setattr(module, attr, replacement)


ABLATIONS = ("relation", "relation-amount", "relation-name", "count", "restatement", "conflicting-figures")


def replies(raw: str) -> list[str]:
    """The model calls recorded in ``raw``: pass 1, and pass 2 after a second look."""
    return [part.strip() for part in raw.split(SECOND_LOOK.strip())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("qa", nargs="+", type=Path)
    parser.add_argument("--from", dest="results", type=Path, action="append", required=True,
                        help="an eval's results.json (repeat for several; the first to hold an id is used)")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--show", action="store_true", help="list the ids that changed (read tune ones only)")
    parser.add_argument("--ablate", choices=ABLATIONS, help="switch this verifier rule off")
    parser.add_argument("--out", type=Path, help="write each replayed question's id, split and rightness (JSON)")
    args = parser.parse_args(argv)

    from assistant.chain import Engine
    from assistant.config import load_settings
    from assistant.eval.qa import load_qa, split_of
    from assistant.eval.run import answer_with_engine
    from assistant.eval.score import Result
    from assistant.generation import Writer
    from assistant.prompting import DECLINE
    from assistant.testing import FakeChatModel

    if args.ablate:
        _ablate(args.ablate)
    items = {item.id: item for path in args.qa for item in load_qa(path)}
    recorded: dict[str, Result] = {}
    for path in args.results:
        for data in json.loads(path.read_text())["results"]["engine"]:
            recorded.setdefault(data["id"], Result.from_dict(data))
    singles = [r for r in recorded.values() if r.type in SINGLE and r.id in items and r.turns == 1]
    engine = Engine.from_settings(load_settings(data_dir=args.data_dir), chat_model=None)
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    changed: list[tuple[str, str, str]] = []
    now: dict[str, bool] = {}
    for old in singles:
        calls = replies(old.raw) if old.raw else []
        fake = FakeChatModel(replies=[*calls, DECLINE])
        engine.writer = Writer(fake, old.model or "replay", engine.writer.limits)
        new = answer_with_engine(engine, items[old.id])
        split = split_of(old.id)
        looked_again = new.raw.count(SECOND_LOOK.strip()) > old.raw.count(SECOND_LOOK.strip())
        counts[(split, "questions")] += 1
        counts[(split, "right before")] += old.ok
        counts[(split, "right now")] += new.ok
        now[old.id] = new.ok
        if new.ok != old.ok:
            kind = ("fixed" if new.ok else "broken") + (" (new second look)" if looked_again else "")
            counts[(split, kind)] += 1
            changed.append((split, old.id, kind))
    rows = [[split, counts[(split, "questions")], counts[(split, "right before")], counts[(split, "right now")],
             counts[(split, "fixed")], counts[(split, "broken")], counts[(split, "broken (new second look)")]]
            for split in ("tune", "check")]
    print(markdown_table(["split", "single questions", "right (recorded)", "right (replayed)", "fixed", "broken",
                          "broken at a new second look"], rows))
    if args.out:
        args.out.write_text(json.dumps(now, indent=0))
    if args.show:
        for split, id_, kind in sorted(changed):
            print(split, id_, kind)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
