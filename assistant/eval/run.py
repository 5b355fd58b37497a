"""Running the systems: the engine and the naive baseline on every item, resumable from ``OUT/progress.jsonl``.

Each answered question is appended with a fingerprint of the QA file, the settings, the corpus
and the answering code; a rerun with the same fingerprint skips what is already there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
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

from ..errors import AssistantError
from .qa import RETRIEVAL_K, QAItem
from .score import Result, score, summarize

if TYPE_CHECKING:
    from ..chain import Engine
    from ..config import Settings
    from .naive import NaiveRAG

SYSTEMS = ("engine", "naive")
PROGRESS = "progress.jsonl"
# Settings that cannot change an answer; everything else is part of the fingerprint.
_NOT_FINGERPRINTED = {"data_dir", "llm_model_path", "llm_threads", "web_host", "web_port", "web_share"}
# Modules of assistant/ that cannot change an answer either (this package is not among assistant/*.py).
_NOT_ANSWERING = {"cli.py", "__init__.py", "logs.py", "testing.py"}
_ASSISTANT_DIR = Path(__file__).resolve().parents[1]
# The baseline's own code, relative to assistant/ (with verify.is_decline, see _decline_rule).
NAIVE_CODE = ("eval/naive.py", "llamacpp.py")


def answer_with_engine(engine: Engine, item: QAItem) -> Result:
    """Ask every turn (earlier answers become the history), score the last; rank for retrieval metrics."""
    from ..chain import Retrieved, SecondLook
    from ..documents import Answer

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
    """Hash of the modules that produce answers: ``assistant/*.py`` but the adapters, or ``names`` (relative
    to ``assistant/``)."""
    here = _ASSISTANT_DIR
    files = sorted(here / n for n in names) if names is not None else sorted(
        p for p in here.glob("*.py") if p.name not in _NOT_ANSWERING)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _decline_rule() -> str:
    """The source of ``verify.is_decline`` and the patterns it uses: all the baseline takes from the engine."""
    import inspect

    from .. import verify

    parts = [inspect.getsource(verify.is_decline)]
    parts += [getattr(verify, name).pattern for name in verify.is_decline.__code__.co_names
              if isinstance(getattr(verify, name, None), re.Pattern)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def settings_fingerprint(settings: Settings) -> dict[str, Any]:
    from ..backends import chat_model_name

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
    from ..backends import set_offline

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

    from ..chain import Engine

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
                                                code_fingerprint(NAIVE_CODE), _decline_rule())
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
    from ..models import GGUF_NAME, assemble_gguf

    if (settings.model_dir / GGUF_NAME).is_file():
        return settings.replace(llm_model_path=str(settings.model_dir / GGUF_NAME))
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "startup-news-assistant" / "models"
    return settings.replace(llm_model_path=str(assemble_gguf(cache)))


def _git_commit() -> str:
    """The short commit, with "+changes" when the assistant's or ingest's files differ from it."""
    here = _ASSISTANT_DIR
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=here).stdout.strip()
        changed = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "--", str(here),
                                  str(here.parent / "ingest")], capture_output=True, text=True, timeout=5,
                                 cwd=here).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{commit}+changes" if commit and changed else commit

