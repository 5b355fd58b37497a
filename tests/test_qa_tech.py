"""The tech-news QA set: typed the way people type, mostly not funding, and every answer in its gold article."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.eval import load_qa, split_of

REPO = Path(__file__).resolve().parents[1]
QA = REPO / "tests" / "data" / "qa_tech.jsonl"
SPEC = json.loads((REPO / "tests" / "data" / "qa_tech_corpus.json").read_text())
CORPUS = REPO / SPEC["source"]

RAW = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_set_is_typed_like_users_type_and_mostly_not_funding() -> None:
    items = load_qa(QA)  # the evaluator's own reader: schema, regexes, unique ids
    n = len(items)
    styles = Counter(style for item in items for style in item.style)
    types = Counter(item.type for item in items)
    assert n >= 150
    assert styles["lower"] >= 0.25 * n and styles["typo"] >= 0.10 * n and styles["terse"] >= 0.10 * n
    assert types["comparison"] + types["multi"] >= 0.15 * n
    assert types["unanswerable"] >= 0.18 * n and types["conversation"] >= 10
    assert Counter(row["topic"] for row in RAW)["funding"] <= 0.25 * n
    assert 0.4 < sum(split_of(item.id) == "check" for item in items) / n < 0.6


@pytest.mark.skipif(not CORPUS.exists(), reason="the shared vb-tech-news corpus is not present")
def test_every_answer_is_in_its_gold_article() -> None:
    wanted = set(SPEC["gold"]) | set(SPEC["headless"]) | set(SPEC["distractors"])
    texts, headless = {}, {}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)
            if article["id"] in wanted:
                texts[article["id"]] = f"{article['title']}\n{article['body']}"
                if article["id"] in SPEC["headless"]:
                    slug = [p for p in article["url"].split("/") if p][-1]
                    headless[f"headless/{article['date'][5:7]}-{article['date'][8:10]}-{slug}.txt"] = article["body"]
    texts.update(headless)
    for item in load_qa(QA):
        assert all(g in texts for g in item.gold), (item.id, item.gold)
        if item.abstain:
            continue
        gold_text = "\n".join(texts[g] for g in item.gold)
        for requirement in item.must:
            assert any(re.search(p, gold_text, re.IGNORECASE) for p in requirement), (item.id, requirement)
