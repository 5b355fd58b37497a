"""Validate the hand-written dev QA set in tests/data/qa_dev.jsonl.

Checks the schema of every item, the minimum counts per type, that every gold
article id exists (seed files under the repo's seeds/ directory, VentureBeat
ids in the shared vb-startup-funding corpus), and that each answerable item's
`must` regexes match somewhere in at least one of its gold articles.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
QA_PATH = REPO_ROOT / "tests" / "data" / "qa_dev.jsonl"
SEEDS_DIR = REPO_ROOT / "seeds"
VB_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"

ALLOWED_TYPES = {
    "amount", "investor", "acquisition", "date", "entity",
    "comparison", "unanswerable", "conversation",
}
SEED_PREFIX = "seeds/"
VB_PREFIX = "vb-"


def _load_items():
    items = []
    with QA_PATH.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                items.append((lineno, json.loads(line)))
            except json.JSONDecodeError as e:  # pragma: no cover - reported by the test
                items.append((lineno, e))
    return items


@lru_cache(maxsize=1)
def _vb_texts():
    texts = {}
    with VB_CORPUS.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                a = json.loads(line)
                texts[a["id"]] = (a.get("title") or "") + "\n" + (a.get("body") or "")
    return texts


def _seed_text(gold_id):
    path = SEEDS_DIR / gold_id[len(SEED_PREFIX):]
    return path.read_text(encoding="utf-8") if path.is_file() else None


ITEMS = _load_items()


def _parsed():
    return [it for _, it in ITEMS if isinstance(it, dict)]


def test_every_line_parses():
    assert QA_PATH.is_file(), f"missing {QA_PATH}"
    bad = [f"line {n}: {it}" for n, it in ITEMS if not isinstance(it, dict)]
    assert not bad, "unparseable lines:\n" + "\n".join(bad)


def test_schema():
    errors = []
    seen = set()
    for n, it in ITEMS:
        if not isinstance(it, dict):
            continue
        where = f"line {n} ({it.get('id')!r})"
        iid = it.get("id")
        if not isinstance(iid, str) or not iid:
            errors.append(f"{where}: id must be a non-empty str")
        elif iid in seen:
            errors.append(f"{where}: duplicate id")
        else:
            seen.add(iid)

        has_q = "question" in it
        has_t = "turns" in it
        if has_q == has_t:
            errors.append(f"{where}: exactly one of question/turns required")
        if has_q and not (isinstance(it["question"], str) and it["question"].strip()):
            errors.append(f"{where}: question must be a non-empty str")
        if has_t:
            turns = it["turns"]
            if not (isinstance(turns, list) and len(turns) >= 2
                    and all(isinstance(t, str) and t.strip() for t in turns)):
                errors.append(f"{where}: turns must be a list of >= 2 non-empty str")

        typ = it.get("type")
        if typ not in ALLOWED_TYPES:
            errors.append(f"{where}: bad type {typ!r}")
        if (typ == "conversation") != has_t:
            errors.append(f"{where}: conversation items (and only they) use turns")

        must = it.get("must")
        if not (isinstance(must, list) and all(
                isinstance(req, list) and req and all(isinstance(p, str) and p for p in req)
                for req in must)):
            errors.append(f"{where}: must must be a list of non-empty lists of str")
        else:
            for req in must:
                for pat in req:
                    try:
                        re.compile(pat, re.I)
                    except re.error as e:
                        errors.append(f"{where}: bad regex {pat!r}: {e}")

        gold = it.get("gold")
        if not (isinstance(gold, list) and all(isinstance(g, str) and g for g in gold)):
            errors.append(f"{where}: gold must be a list of str")

        abstain = it.get("abstain")
        if not isinstance(abstain, bool):
            errors.append(f"{where}: abstain must be a bool")
        elif abstain != (typ == "unanswerable"):
            errors.append(f"{where}: abstain must be true iff type == 'unanswerable'")
        if abstain is True and must != []:
            errors.append(f"{where}: unanswerable items must have must == []")
        if abstain is False and not (must and gold):
            errors.append(f"{where}: answerable items need non-empty must and gold")
    assert not errors, "\n".join(errors)


def test_counts():
    items = _parsed()
    n_unans = sum(it.get("type") == "unanswerable" for it in items)
    n_conv = sum(it.get("type") == "conversation" for it in items)
    assert len(items) >= 100, f"only {len(items)} items"
    assert n_unans >= 20, f"only {n_unans} unanswerable items"
    assert n_conv >= 10, f"only {n_conv} conversations"


def test_gold_ids_are_known_prefixes():
    bad = [(it.get("id"), g) for it in _parsed() for g in it.get("gold", [])
           if not g.startswith((SEED_PREFIX, VB_PREFIX))]
    assert not bad, f"gold ids with unknown prefix: {bad}"


def test_seed_gold_ids_exist():
    seed_ids = {g for it in _parsed() for g in it.get("gold", []) if g.startswith(SEED_PREFIX)}
    if not seed_ids:
        return
    assert SEEDS_DIR.is_dir(), f"seeds directory missing: {SEEDS_DIR}"
    missing = sorted(g for g in seed_ids if not (SEEDS_DIR / g[len(SEED_PREFIX):]).is_file())
    assert not missing, f"seed gold files not found under {SEEDS_DIR}: {missing}"


def test_vb_gold_ids_exist():
    if not VB_CORPUS.is_file():
        pytest.skip(f"vb-startup-funding corpus not found at {VB_CORPUS}")
    texts = _vb_texts()
    missing = sorted({g for it in _parsed() for g in it.get("gold", [])
                      if g.startswith(VB_PREFIX) and g not in texts})
    assert not missing, f"vb gold ids not in corpus: {missing}"


def test_must_regexes_match_a_gold_article():
    vb_available = VB_CORPUS.is_file()
    errors = []
    checked = 0
    for it in _parsed():
        if it.get("abstain") is not False or not it.get("must"):
            continue
        texts = []
        for g in it.get("gold", []):
            if g.startswith(SEED_PREFIX):
                t = _seed_text(g)
            elif g.startswith(VB_PREFIX) and vb_available:
                t = _vb_texts().get(g)
            else:
                t = None
            if t is not None:
                texts.append(t)
        if not texts:
            continue
        checked += 1
        for req in it["must"]:
            try:
                ok = any(re.search(p, t, re.I) for p in req for t in texts)
            except (re.error, TypeError):
                continue  # reported by test_schema
            if not ok:
                errors.append(f"{it.get('id')}: no alternative of {req} matches its gold article(s)")
    assert not errors, "\n".join(errors)
    if checked == 0:
        pytest.skip("no gold article text available to check regexes against")
