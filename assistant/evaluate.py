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
import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AssistantError

if TYPE_CHECKING:
    from .chain import Engine
    from .config import Settings
    from .naive import NaiveRAG

DEFAULT_OUT = Path("eval-out")
SYSTEMS = ("engine", "naive")
TYPES = ("amount", "investor", "acquisition", "date", "entity", "who", "what", "when", "where", "yesno", "comparison",
         "multi", "conversation", "unanswerable")
MULTI_TYPES = ("comparison", "multi")
STYLES = ("lower", "typo", "terse")
RETRIEVAL_K = 10  # passages ranked per question for Hit@k and MRR
HIT_KS = (1, 3, 5)
CHART = "accuracy_by_type.png"
PROGRESS = "progress.jsonl"
# Settings that cannot change an answer; everything else is part of the fingerprint.
_NOT_FINGERPRINTED = {"data_dir", "llm_model_path", "llm_threads", "web_host", "web_port", "web_share"}
# Modules that cannot change an answer either.
_NOT_ANSWERING = {"evaluate.py", "cli.py", "ui.py", "__init__.py", "logs.py"}
_REASONS = ("retrieval miss", "false abstention", "wrong answer", "invented answer")


# -- the QA file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QAItem:
    """One question of the QA file; a conversation is scored on its last turn."""

    id: str
    type: str
    turns: tuple[str, ...]
    must: tuple[tuple[str, ...], ...] = ()
    gold: tuple[str, ...] = ()
    abstain: bool = False
    style: tuple[str, ...] = ()  # how it is typed: "lower", "typo", "terse"

    @property
    def question(self) -> str:
        return self.turns[-1]


def load_qa(path: Path) -> list[QAItem]:
    """Read a QA file (JSON Lines; the format is in docs/evaluation.md).

    Raises:
        AssistantError: naming the line of a malformed item or a duplicate id.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"cannot read QA file {path}: {exc.strerror or exc}") from None
    items: list[QAItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"QA file {path} line {lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"{where} is not JSON: {exc.msg}") from None
        item = _qa_item(raw, where)
        if item.id in seen:
            raise AssistantError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise AssistantError(f"QA file {path} holds no questions")
    return items


def _qa_item(raw: Any, where: str) -> QAItem:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise AssistantError(f"{where}: expected an object with a string \"id\"")
    turns = raw.get("turns") or ([raw["question"]] if raw.get("question") else [])
    if not turns or not all(isinstance(t, str) and t.strip() for t in turns):
        raise AssistantError(f"{where}: needs \"question\" (a string) or \"turns\" (a list of strings)")
    must = raw.get("must") or []
    if not isinstance(must, list) or not all(isinstance(r, list) and r and all(isinstance(a, str) for a in r)
                                             for r in must):
        raise AssistantError(f"{where}: \"must\" must be a list of lists of regexes")
    for requirement in must:
        for pattern in requirement:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise AssistantError(f"{where}: bad regex {pattern!r} in \"must\": {exc}") from None
    abstain = bool(raw.get("abstain", False))
    if not abstain and not must:
        raise AssistantError(f"{where}: an answerable item needs at least one requirement in \"must\"")
    gold = raw.get("gold") or []
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        raise AssistantError(f"{where}: \"gold\" must be a list of article ids")
    kind = raw.get("type") or ("conversation" if len(turns) > 1 else "unanswerable" if abstain else "other")
    return QAItem(id=raw["id"], type=str(kind), turns=tuple(turns), must=tuple(tuple(r) for r in must),
                  gold=tuple(gold), abstain=abstain, style=tuple(str(x) for x in raw.get("style") or ()))


# -- scoring one answer ---------------------------------------------------------------------------


SPLITS = ("tune", "check")


def split_of(item_id: str) -> str:
    """"tune" or "check", fixed by a hash of the id: read failures on tune only, judge on check."""
    return SPLITS[hashlib.sha256(item_id.encode()).digest()[0] % 2]


def requirement_met(text: str, alternatives: Sequence[str]) -> bool:
    """Whether any alternative regex matches ``text`` (case-insensitive)."""
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in alternatives)


def unmet_requirements(text: str, must: Sequence[Sequence[str]]) -> list[list[str]]:
    """The requirements that no alternative satisfies."""
    return [list(r) for r in must if not requirement_met(text, r)]


def is_gold(source: str, gold: Iterable[str]) -> bool:
    """Exact id match, or one path ends with the other at a path separator."""
    source = source.replace("\\", "/")
    for g in gold:
        g = g.replace("\\", "/")
        if source == g or source.endswith("/" + g.lstrip("/")) or g.endswith("/" + source.lstrip("/")):
            return True
    return False


def first_gold_rank(ranking: Sequence[str], gold: Sequence[str], k: int = RETRIEVAL_K) -> int | None:
    """1-based rank of the first passage (of the top ``k``) whose article is gold."""
    for rank, source in enumerate(ranking[:k], 1):
        if is_gold(source, gold):
            return rank
    return None


def hit_at(ranking: Sequence[str], gold: Sequence[str], k: int) -> bool:
    return first_gold_rank(ranking, gold, k) is not None


def reciprocal_rank(ranking: Sequence[str], gold: Sequence[str], k: int = RETRIEVAL_K) -> float:
    rank = first_gold_rank(ranking, gold, k)
    return 1.0 / rank if rank else 0.0


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


@dataclass
class Result:
    """One system's answer to one QA item, scored."""

    system: str
    id: str
    type: str
    question: str  # the last turn
    standalone: str  # what was retrieved with
    abstain_expected: bool
    gold: list[str]
    answer: str
    abstained: bool
    ok: bool  # answerable: all requirements met and no abstention; unanswerable: abstained
    unmet: list[list[str]]  # requirements not met (answerable questions only)
    cited: list[str]  # articles cited by the answer, first citation first
    context: list[str]  # articles of the passages the model was given
    ranking: list[str]  # article of each of the top RETRIEVAL_K ranked passages (answerable only)
    retrieve_s: float = 0.0
    first_token_s: float = 0.0  # 0 when no model ran (abstained at retrieval)
    total_s: float = 0.0
    model: str = ""
    turns: int = 1
    raw: str = ""  # the model's reply before verification ("" when no model ran)
    removed: list[str] = field(default_factory=list)  # sentences the verifier dropped as unsupported
    # Every requirement met somewhere in the retrieved passages' titles and text (answerable only; None
    # when not recorded): False means the answer never reached the model, whatever the article ranks.
    answer_in_passages: bool | None = None
    style: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return not self.abstain_expected

    @property
    def reason(self) -> str:
        """Why a failed question failed ("" when it did not)."""
        return failure_reason(self)

    @property
    def stage(self) -> str:
        """Where an abstention came from: ``retrieval gate`` (no model ran), ``model declined`` or
        ``verifier`` (the model answered, every sentence was removed as unsupported); "" otherwise."""
        if not self.abstained:
            return ""
        if self.first_token_s <= 0:
            return "retrieval gate"
        if not self.raw:
            return "after the model"  # a result recorded without the model's reply
        from .verify import is_decline

        return "verifier" if self.removed and not is_decline(self.raw) else "model declined"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def score(item: QAItem, system: str, *, answer: str, abstained: bool, standalone: str, cited: Sequence[str],
          context: Sequence[str], ranking: Sequence[str], retrieve_s: float = 0.0, first_token_s: float = 0.0,
          total_s: float = 0.0, model: str = "", raw: str = "", removed: Sequence[str] = (),
          passages_text: str | None = None) -> Result:
    """Score one answer against its item (``passages_text``: what retrieval handed over, if known)."""
    unmet = [] if item.abstain else unmet_requirements(answer, item.must)
    in_passages = None if item.abstain or passages_text is None else not unmet_requirements(passages_text, item.must)
    ok = abstained if item.abstain else (not abstained and not unmet)
    return Result(system=system, id=item.id, type=item.type, question=item.question, standalone=standalone,
                  abstain_expected=item.abstain, gold=list(item.gold), answer=answer, abstained=abstained, ok=ok,
                  unmet=unmet, cited=unique(cited), context=unique(context), ranking=list(ranking),
                  retrieve_s=retrieve_s, first_token_s=first_token_s, total_s=total_s, model=model,
                  turns=len(item.turns), raw=raw, removed=list(removed), answer_in_passages=in_passages,
                  style=list(item.style))


def failure_reason(result: Result) -> str:
    """``invented answer`` (unanswerable, not abstained); for answerable ones ``retrieval miss`` when no
    gold article reached the model, else ``false abstention`` or ``wrong answer``."""
    if result.ok:
        return ""
    if result.abstain_expected:
        return "invented answer"
    if result.gold and not any(is_gold(s, result.gold) for s in result.context):
        return "retrieval miss"
    return "false abstention" if result.abstained else "wrong answer"


# -- aggregate metrics ----------------------------------------------------------------------------


def rate(num: float, den: float) -> float | None:
    """``num / den``, or None when there is nothing to divide by."""
    return num / den if den else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile with linear interpolation (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def failures(results: Sequence[Result]) -> list[Result]:
    """The results that were not handled right, in input order."""
    return [r for r in results if not r.ok]


def summarize(results: Sequence[Result]) -> dict[str, Any]:
    """Every metric of docs/evaluation.md for one system's results (rates are None when undefined)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.abstained]
    correct = [r for r in answerable if r.ok]
    cited = sum(len(r.cited) for r in answered)
    cited_gold = sum(1 for r in answered for s in r.cited if is_gold(s, r.gold))
    covered = sum(1 for r in correct if any(is_gold(s, r.gold) for s in r.cited))
    conversations = [r for r in results if r.turns > 1]
    multi = [r for r in results if r.type in MULTI_TYPES]

    by_type: dict[str, dict[str, Any]] = {}
    for kind in sorted({r.type for r in results}, key=lambda t: (TYPES.index(t) if t in TYPES else 99, t)):
        group = [r for r in results if r.type == kind]
        ok = sum(r.ok for r in group)
        abstained = sum(r.abstained for r in group)
        by_type[kind] = {"n": len(group), "ok": ok, "accuracy": rate(ok, len(group)), "abstained": abstained,
                         "abstention_rate": rate(abstained, len(group))}

    ranked = [r for r in answerable if r.gold]
    retrieval: dict[str, Any] = {"n": len(ranked)}
    for k in HIT_KS:
        retrieval[f"hit@{k}"] = rate(sum(hit_at(r.ranking, r.gold, k) for r in ranked), len(ranked))
    retrieval[f"mrr@{RETRIEVAL_K}"] = rate(sum(reciprocal_rank(r.ranking, r.gold) for r in ranked), len(ranked))
    retrieval["gold_in_context"] = rate(sum(any(is_gold(s, r.gold) for s in r.context) for r in ranked),
                                        len(ranked))
    known = [r for r in answerable if r.answer_in_passages is not None]
    retrieval["answer_in_passages"] = rate(sum(bool(r.answer_in_passages) for r in known), len(known))
    retrieval["n_answer_in_passages"] = len(known)

    latency: dict[str, Any] = {}
    for name in ("retrieve_s", "first_token_s", "total_s"):
        # First token only exists when the model ran; questions abstained at retrieval have none.
        values = [getattr(r, name) for r in results if name != "first_token_s" or r.first_token_s > 0]
        latency[name] = {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95)}

    failed = failures(results)
    reasons = {reason: sum(1 for r in failed if r.reason == reason) for reason in _REASONS}
    stages: dict[str, int] = {}
    for r in answerable:
        if r.abstained:
            stages[r.stage] = stages.get(r.stage, 0) + 1
    return {
        "n": len(results),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "n_ok": sum(r.ok for r in results),
        "n_failed": len(failed),
        "overall": rate(sum(r.ok for r in results), len(results)),
        "accuracy": rate(len(correct), len(answerable)),
        "n_correct": len(correct),
        "correct_abstention_rate": rate(sum(r.abstained for r in unanswerable), len(unanswerable)),
        "n_correct_abstentions": sum(r.abstained for r in unanswerable),
        "false_abstention_rate": rate(sum(r.abstained for r in answerable), len(answerable)),
        "n_false_abstentions": sum(r.abstained for r in answerable),
        "citation_precision": rate(cited_gold, cited),
        "n_citations": cited,
        "n_gold_citations": cited_gold,
        "citation_coverage": rate(covered, len(correct)),
        "n_covered": covered,
        "multi_accuracy": rate(sum(r.ok for r in multi), len(multi)),
        "n_multi_ok": sum(r.ok for r in multi),
        "n_multi": len(multi),
        "conversation_accuracy": rate(sum(r.ok for r in conversations), len(conversations)),
        "n_conversations": len(conversations),
        "by_type": by_type,
        "retrieval": retrieval,
        "latency": latency,
        "failure_reasons": reasons,
        "false_abstention_stages": stages,
        "failed_ids": [r.id for r in failed],
    }


# -- running the systems --------------------------------------------------------------------------


def answer_with_engine(engine: Engine, item: QAItem) -> Result:
    """Ask every turn (earlier answers become the history), score the last; rank for retrieval metrics."""
    from .chain import Retrieved, SecondLook
    from .documents import Answer

    history: list[dict[str, str]] = []
    final: Answer | None = None
    context: list[str] = []
    raw = texts = ""
    for turn in item.turns:
        final, context, raw = None, [], ""
        for event in engine.stream(turn, history or None):
            if isinstance(event, Retrieved):
                context = [p.source for p in event.passages]
                texts = "\n".join(f"{p.title}\n{p.text}" for p in event.passages)
            elif isinstance(event, str):
                raw += event
            elif isinstance(event, SecondLook):
                raw += "\n[second look]\n"
            elif isinstance(event, Answer):
                final = event
        assert final is not None
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": final.text}]
    assert final is not None
    ranking = [] if item.abstain else [p.source for p in engine.retrieve(final.standalone_question, k=RETRIEVAL_K)]
    return score(item, "engine", answer=final.text, abstained=final.abstained,
                 standalone=final.standalone_question, cited=[c.source for c in final.citations],
                 context=context, ranking=ranking, retrieve_s=final.timings.retrieve_s,
                 first_token_s=final.timings.first_token_s, total_s=final.timings.total_s, model=final.model,
                 raw=raw.strip(), removed=final.removed, passages_text=texts)


def answer_with_naive(naive: NaiveRAG, item: QAItem) -> Result:
    """The baseline on the same item; its "citations" are the articles of its context chunks."""
    history: list[dict[str, str]] = []
    reply = None
    for turn in item.turns:
        reply = naive.answer(turn, history)
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": reply.text}]
    assert reply is not None
    return score(item, "naive", answer=reply.text, abstained=reply.abstained, standalone=reply.question,
                 cited=[] if reply.abstained else reply.sources, context=reply.sources,
                 ranking=[] if item.abstain else reply.ranking, retrieve_s=reply.timings.retrieve_s,
                 first_token_s=reply.timings.first_token_s, total_s=reply.timings.total_s, model="naive",
                 raw=reply.text, passages_text="\n".join(reply.passages))


class Progress:
    """``OUT/progress.jsonl``: one line per answered question, keyed by system, id and fingerprint."""

    def __init__(self, path: Path, fingerprints: dict[str, str]) -> None:
        self.path = path
        self.fingerprints = fingerprints

    def load(self) -> dict[tuple[str, str], Result]:
        done: dict[tuple[str, str], Result] = {}
        if not self.path.exists():
            return done
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                if row["fingerprint"] == self.fingerprints.get(row["system"]):
                    done[(row["system"], row["id"])] = Result.from_dict(row["result"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut short by a kill
        return done

    def append(self, result: Result) -> None:
        row = {"system": result.system, "id": result.id, "fingerprint": self.fingerprints[result.system],
               "result": result.to_dict()}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def code_fingerprint(names: Iterable[str] | None = None) -> str:
    """Hash of the modules that produce answers (all of ``assistant/`` but the adapters and this file)."""
    here = Path(__file__).resolve().parent
    files = sorted(here / n for n in names) if names is not None else sorted(
        p for p in here.glob("*.py") if p.name not in _NOT_ANSWERING)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _decline_rule() -> str:
    """The source of ``verify.is_decline`` and the patterns it uses: all the baseline takes from the engine."""
    import inspect

    from . import verify

    parts = [inspect.getsource(verify.is_decline)]
    parts += [getattr(verify, name).pattern for name in verify.is_decline.__code__.co_names
              if isinstance(getattr(verify, name, None), re.Pattern)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def settings_fingerprint(settings: Settings) -> dict[str, Any]:
    from .backends import chat_model_name

    values = {k: str(v) for k, v in dataclasses.asdict(settings).items() if k not in _NOT_FINGERPRINTED}
    values["model"] = chat_model_name(settings)
    return values


def corpus_files(paths: Sequence[Path]) -> list[tuple[str, int, int]]:
    """``(path, size, mtime)`` of every file a corpus argument expands to."""
    from ingest.load import find_files

    files, missing = find_files([Path(p) for p in paths])
    if missing:
        raise AssistantError(f"corpus {missing[0][0]}: {missing[0][1]}")
    return [(str(f.resolve()), f.stat().st_size, int(f.stat().st_mtime)) for f in files]


@dataclass
class Run:
    """What one evaluation produced."""

    meta: dict[str, Any]
    results: dict[str, list[Result]]
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # system -> why it did not run


def evaluate(items: Sequence[QAItem], settings: Settings, *, qa_path: Path | Sequence[Path], out: Path,
             corpus: Sequence[Path] = (), baseline: str | None = None, fresh: bool = False,
             show_progress: bool = True, log: Callable[[str], None] = lambda _: None) -> Run:
    """Answer ``items`` with the engine (and the baseline), resuming from ``out/progress.jsonl``.

    Args:
        items: the questions to run (already filtered).
        settings: the engine's settings; with ``corpus`` its data dir is replaced by a temporary one.
        qa_path: the QA file(s) (their bytes are part of the fingerprint).
        out: where progress.jsonl goes.
        corpus: files or directories to ingest into a temporary data dir first.
        baseline: ``"naive"`` to run the naive LangChain RAG too.
        fresh: ignore (and delete) earlier progress.
        show_progress: tqdm bars on stderr.
        log: where to say what is happening (one line at a time).
    """
    from .backends import set_offline

    set_offline()
    out.mkdir(parents=True, exist_ok=True)
    qa_paths = [qa_path] if isinstance(qa_path, Path) else list(qa_path)
    qa_bytes = b"".join(p.read_bytes() for p in qa_paths)
    base = {"qa": hashlib.sha256(qa_bytes).hexdigest(), "settings": settings_fingerprint(settings)}
    if corpus:
        files = corpus_files(corpus)
        if not files:
            raise AssistantError(f"the corpus {', '.join(map(str, corpus))} holds no readable files")
        key = fingerprint(files, settings.embedding_model, settings.ingest_chunk_tokens, settings.ingest_overlap_tokens)
        data_dir = Path(tempfile.gettempdir()) / f"eval-corpus-{key}"
        settings = settings.replace(data_dir=data_dir)
        log(f"ingesting {len(files)} corpus file(s) into {data_dir}")
        from ingest import ingest

        report = ingest([Path(p) for p in corpus], settings, progress=show_progress)
        if report.failed:
            log(report.summary())
        base["corpus"] = files
    settings = _with_model(settings)

    from .chain import Engine

    engine = Engine.from_settings(settings)
    articles, chunks = engine.store.count()
    if not articles:
        raise AssistantError(f'no articles in {settings.data_dir}; pass --corpus PATH or run "assistant ingest" first')
    if not corpus:
        base["corpus"] = {"data_dir": str(settings.data_dir.resolve()), "articles": articles, "chunks": chunks}
    fingerprints = {"engine": fingerprint(base, "engine", code_fingerprint())}
    systems = ["engine"]
    skipped: dict[str, str] = {}
    if baseline == "naive":
        if engine.chat_model is None:
            skipped["naive"] = "the extractive backend has no chat model to give the naive baseline"
            log(f"skipping the naive baseline: {skipped['naive']}")
        else:
            from . import naive

            fingerprints["naive"] = fingerprint(base, "naive", naive.describe(),
                                                code_fingerprint(["naive.py", "llamacpp.py"]), _decline_rule())
            systems.append("naive")

    progress = Progress(out / PROGRESS, fingerprints)
    if fresh:
        progress.path.unlink(missing_ok=True)
    done = progress.load()
    meta = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "qa_file": ", ".join(map(str, qa_paths)), "n_items": len(items), "data_dir": str(settings.data_dir),
        "corpus": [str(p) for p in corpus] or None, "articles": articles, "chunks": chunks,
        "model": engine.model_name, "backend": settings.llm_backend, "retrieval_k": settings.retrieval_k,
        "fingerprints": fingerprints, "commit": _git_commit(), "cpu_count": os.cpu_count(),
        "baseline": baseline if "naive" in systems else None,
    }
    results: dict[str, list[Result]] = {}
    for system in systems:
        todo = [item for item in items if (system, item.id) not in done]
        if len(todo) < len(items):
            log(f"{system}: {len(items) - len(todo)} of {len(items)} question(s) already done, resuming")
        runner = _runner(system, engine, settings, base, log) if todo else None
        from tqdm import tqdm

        for item in tqdm(todo, desc=system, unit="q", file=sys.stderr, disable=not show_progress or not todo):
            assert runner is not None
            result = runner(item)
            progress.append(result)
            done[(system, item.id)] = result
        results[system] = [done[(system, item.id)] for item in items]
    return Run(meta=meta, results=results, summaries={s: summarize(r) for s, r in results.items()}, skipped=skipped)


def _runner(system: str, engine: Engine, settings: Settings, base: dict[str, Any],
            log: Callable[[str], None]) -> Callable[[QAItem], Result]:
    if system == "engine":
        engine.warm_up()
        return lambda item: answer_with_engine(engine, item)
    from . import naive

    key = fingerprint(base["corpus"], naive.describe(), settings.embedding_model)
    persist = Path(tempfile.gettempdir()) / f"eval-naive-{key}"
    started = time.perf_counter()
    if isinstance(base["corpus"], list):  # --corpus files
        articles = naive.load_articles([Path(p) for p, _, _ in base["corpus"]], settings.ingest_max_file_mb)
    else:
        articles = naive.store_articles(settings)
    log(f"naive baseline: indexing {len(articles)} articles in {persist} (reused when already built)")
    rag = naive.NaiveRAG.build(articles, persist, engine.chat_model, settings.embedding_model)
    log(f"naive baseline: index ready in {time.perf_counter() - started:.0f} s")
    return lambda item: answer_with_naive(rag, item)


def _with_model(settings: Settings) -> Settings:
    """Point the embedded backend at an assembled GGUF without writing into the data dir when possible.

    The engine assembles the packaged model into ``<data_dir>/models``; evaluating a read-only
    store or a temporary one would copy 1.1 GB each time, so the copy in a user cache is used.
    """
    if settings.llm_backend != "embedded" or settings.llm_model_path:
        return settings
    from .backends import GGUF_NAME, assemble_gguf

    if (settings.model_dir / GGUF_NAME).is_file():
        return settings.replace(llm_model_path=str(settings.model_dir / GGUF_NAME))
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "startup-news-assistant" / "models"
    return settings.replace(llm_model_path=str(assemble_gguf(cache)))


def _git_commit() -> str:
    """The short commit, with "+changes" when the assistant's or ingest's files differ from it."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=here).stdout.strip()
        changed = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "--", str(here),
                                  str(here.parent / "ingest")], capture_output=True, text=True, timeout=5,
                                 cwd=here).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{commit}+changes" if commit and changed else commit


# -- reports ----------------------------------------------------------------------------------------


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


# -- the command --------------------------------------------------------------------------------------


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


def select(items: Sequence[QAItem], ids: str | None = None, limit: int | None = None,
           split: str | None = None) -> list[QAItem]:
    """Items with the given ids (in file order) and of ``split``, then the first ``limit``.

    Raises:
        AssistantError: an id is not in the file.
    """
    chosen = list(items)
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        unknown = sorted(set(wanted) - {item.id for item in items})
        if unknown:
            raise AssistantError(f"--ids names question(s) not in the QA file: {', '.join(unknown)}")
        chosen = [item for item in chosen if item.id in wanted]
    if split:
        chosen = [item for item in chosen if split_of(item.id) == split]
    if limit is not None:
        if limit <= 0:
            raise AssistantError(f"--limit must be positive, not {limit}")
        chosen = chosen[:limit]
    return chosen


def run_from_args(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant eval``: run, print the tables, write JSON, Markdown and the chart."""
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


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./,:=@%+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"
