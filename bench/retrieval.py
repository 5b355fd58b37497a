"""Retrieval benchmark: query latency (engine.retrieve, no LLM) and memory at ~1k, ~10k and ~50k chunks.

Stores are built once and cached in /tmp/bench-stores/<size> (a ``complete`` marker says a
store is finished; delete the folder to rebuild):
    1k   the first vb-startup-funding articles until ~1,000 chunks
    10k  all of vb-startup-funding + seeds/ (copied from --copy-10k, default /tmp/dvb, when it is
         a finished store; otherwise ingested)
    50k  the 10k store + vb-tech-news articles until ~50,000 chunks (~15 min of embedding)

Each size is measured in its own subprocess: open the engine with the extractive backend
(no LLM is loaded), warm up, then time ``engine.retrieve(q, k=4)`` for every question of
tests/data/qa_dev.jsonl (first turns of conversations), ``--repeats`` passes. Reported: medians
over passes of p50/p95, the parts (query embedding, dense search, keyword search), Hit@5 of the
gold articles, RSS after warm-up and peak RSS.

Usage (from the repo root):
    .venv/bin/python bench/retrieval.py                   # 1k, 10k, 50k
    .venv/bin/python bench/retrieval.py --sizes 1k,10k    # skip the long 50k build

Appends a dated section to docs/benchmarks.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path and bench/ingest.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.report import DOC, append_section, markdown_table, table  # noqa: E402

SHARED = ROOT.parent / "shared" / "corpora"
FUNDING = SHARED / "vb-startup-funding" / "articles.jsonl"
TECH = SHARED / "vb-tech-news" / "articles.jsonl.gz"
QA = ROOT / "tests" / "data" / "qa_dev.jsonl"
SEEDS = ROOT / "seeds"
STORES = Path("/tmp/bench-stores")
TARGETS = {"1k": 1_000, "10k": 10_000, "50k": 50_000}
K = 4


def _settings(data_dir: Path):  # noqa: ANN202
    from assistant import load_settings

    return load_settings(env={}, data_dir=data_dir, llm_backend="extractive")


def _count(data_dir: Path) -> tuple[int, int]:
    import sqlite3

    if not (data_dir / "index.sqlite3").exists():
        return 0, 0
    db = sqlite3.connect(data_dir / "index.sqlite3")
    try:
        return db.execute("SELECT count(*) FROM articles").fetchone()[0], db.execute(
            "SELECT count(*) FROM chunks").fetchone()[0]
    finally:
        db.close()


def _ingest_until(data_dir: Path, records: list[str], target: int, batch: int, scratch: Path, tag: str) -> None:
    """Ingest ``records`` (JSONL lines) in batches until the store holds ``target`` chunks."""
    from ingest import ingest

    settings = _settings(data_dir)
    scratch.mkdir(parents=True, exist_ok=True)
    n = 0
    while _count(data_dir)[1] < target and n < len(records):
        part = scratch / f"{tag}-{n:05d}.jsonl"
        part.write_text("".join(records[n:n + batch]), encoding="utf-8")
        report = ingest([part], settings, progress=False)
        n += batch
        print(f"  {tag}: +{report.chunks} chunks -> {_count(data_dir)[1]}", file=sys.stderr, flush=True)


def build_store(size: str, copy_10k: Path | None) -> Path:
    """The cached store for ``size``, built on first use."""
    from ingest import ingest

    path = STORES / size
    if (path / "complete").exists():
        return path
    # An unfinished store is continued, not rebuilt: ingest is idempotent and recovers
    # half-written articles, and the batches are written with the same names and content.
    print(f"building the {size} store in {path} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    records = FUNDING.read_text(encoding="utf-8").splitlines(keepends=True)
    if size == "1k":
        _ingest_until(path, records, TARGETS["1k"], 20, STORES / "parts", "funding")
    elif size == "10k":
        if copy_10k and _finished(copy_10k):
            shutil.rmtree(path, ignore_errors=True)  # a copy cut short is not worth mending
            shutil.copytree(copy_10k, path, ignore=shutil.ignore_patterns("models", "ingest.lock"))
        else:
            ingest([SEEDS, FUNDING], _settings(path), progress=True)
    else:
        if not (path / ".copied").exists():
            shutil.rmtree(path, ignore_errors=True)
            shutil.copytree(build_store("10k", copy_10k), path,
                            ignore=shutil.ignore_patterns("complete", "ingest.lock"))
            (path / ".copied").touch()
        with gzip.open(TECH, "rt", encoding="utf-8") as f:
            tech = f.readlines()
        _ingest_until(path, tech, TARGETS["50k"], 500, STORES / "parts", "tech")
    articles, chunks = _count(path)
    (path / "complete").write_text(json.dumps({"articles": articles, "chunks": chunks,
                                               "build_s": time.perf_counter() - started}), encoding="utf-8")
    return path


def _finished(data_dir: Path) -> bool:
    """A store with articles and no half-written ones (nothing pending)."""
    import sqlite3

    try:
        db = sqlite3.connect(f"file:{data_dir / 'index.sqlite3'}?mode=ro", uri=True)
        try:
            pending = db.execute("SELECT count(*) FROM pending").fetchone()[0]
            articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            db.close()
    except Exception:  # noqa: BLE001 - any problem means "not a usable store"
        return False
    return articles > 0 and pending == 0


def questions() -> list[tuple[str, list[str]]]:
    """(question, gold) for every QA item: its question, or the first turn of a conversation."""
    out = []
    for line in QA.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            out.append((item.get("question") or item["turns"][0], [] if item.get("abstain") else item["gold"]))
    return out


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(data_dir: Path, repeats: int) -> dict:
    """Latency of engine.retrieve and its parts over the QA questions (in this process)."""
    from assistant.backends import set_offline
    from assistant.chain import Engine
    from assistant.evaluate import is_gold, percentile
    from assistant.store import Filters

    set_offline()
    rss_before = rss_mb()
    started = time.perf_counter()
    engine = Engine.from_settings(_settings(data_dir), chat_model=None)
    qs = questions()
    for q, _ in qs[:5]:  # load the model, open Chroma, page in the HNSW index
        engine.retrieve(q, k=K)
    open_s = time.perf_counter() - started
    rss_warm = rss_mb()
    store, embedder = engine.store, engine.embedder
    sources = [row[0] for row in store.db.execute("SELECT source FROM articles")]
    passes: list[dict] = []
    hits = []
    for _ in range(repeats):
        total, embed, dense, keyword = [], [], [], []
        for q, gold in qs:
            t0 = time.perf_counter()
            passages = engine.retrieve(q, k=K)
            total.append(time.perf_counter() - t0)
            if not passes and gold and any(is_gold(s, gold) for s in sources):  # gold is in this store
                hits.append(any(is_gold(p.source, gold) for p in passages))
            t0 = time.perf_counter()
            vector = embedder.embed_query(q)
            t1 = time.perf_counter()
            store.search_dense(vector, engine.retriever.candidates, store.allowed_articles(Filters.of(None)))
            t2 = time.perf_counter()
            store.search_keyword(q, engine.retriever.candidates)
            t3 = time.perf_counter()
            embed.append(t1 - t0)
            dense.append(t2 - t1)
            keyword.append(t3 - t2)
        passes.append({name: {"p50": percentile(v, 50), "p95": percentile(v, 95)}
                       for name, v in (("total", total), ("embed", embed), ("dense", dense), ("keyword", keyword))})
    result = {name: {q: statistics.median(p[name][q] for p in passes) for q in ("p50", "p95")}
              for name in passes[0]}
    articles, chunks = engine.store.count()
    return {"articles": articles, "chunks": chunks, "questions": len(qs), "repeats": repeats, "latency": result,
            "hit@5": sum(hits) / len(hits) if hits else None, "hit_n": len(hits), "open_s": open_s,
            "rss_start_mb": rss_before,
            "rss_warm_mb": rss_warm, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "disk_mb": sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1k,10k,50k", help="comma-separated: 1k, 10k, 50k")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the questions (medians reported)")
    parser.add_argument("--copy-10k", type=Path, default=Path("/tmp/dvb"),
                        help="a finished store of seeds + vb-startup-funding to copy for 10k (read only)")
    parser.add_argument("--build-only", action="store_true", help="build the stores, measure nothing")
    parser.add_argument("--no-record", action="store_true", help="do not append to docs/benchmarks.md")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:  # inside the subprocess
        print(json.dumps(measure(args.measure, args.repeats)))
        return

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = set(sizes) - set(TARGETS)
    if unknown:
        sys.exit(f"unknown size(s) {', '.join(sorted(unknown))}; choose from {', '.join(TARGETS)}")
    from assistant.backends import set_offline

    set_offline()
    paths = {size: build_store(size, args.copy_10k) for size in sizes}
    if args.build_only:
        return
    results = {}
    for size in sizes:
        print(f"measuring {size} ...", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--measure", str(paths[size]), "--repeats", str(args.repeats)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if done.returncode != 0:
            sys.exit(f"measuring {size} failed:\n{done.stderr[-3000:]}")
        results[size] = json.loads(done.stdout.strip().splitlines()[-1])

    base = results[sizes[0]]
    header = ["store", "articles", "chunks", "retrieve p50 ms", "retrieve p95 ms", "× p50 vs first",
              "embed p50 ms", "dense p50 ms", "keyword p50 ms", "Hit@5", "RSS warm MB", "peak RSS MB", "disk MB"]
    rows = []
    for size in sizes:
        r, lat = results[size], results[size]["latency"]
        rows.append([size, r["articles"], r["chunks"], f"{1000 * lat['total']['p50']:.1f}",
                     f"{1000 * lat['total']['p95']:.1f}",
                     f"×{lat['total']['p50'] / base['latency']['total']['p50']:.2f}",
                     f"{1000 * lat['embed']['p50']:.1f}", f"{1000 * lat['dense']['p50']:.1f}",
                     f"{1000 * lat['keyword']['p50']:.1f}",
                     "–" if r["hit@5"] is None else f"{100 * r['hit@5']:.0f}% (n={r['hit_n']})",
                     f"{r['rss_warm_mb']:.0f}", f"{r['peak_rss_mb']:.0f}", f"{r['disk_mb']:.0f}"])
    notes = []
    if len(sizes) > 1:
        last = results[sizes[-1]]
        growth = last["latency"]["total"]["p50"] / base["latency"]["total"]["p50"]
        scale = last["chunks"] / base["chunks"]
        exponent = math.log(growth) / math.log(scale) if scale > 1 and growth > 0 else float("nan")
        notes.append(f"From {base['chunks']:,} to {last['chunks']:,} chunks (×{scale:.0f}) the median retrieve time "
                     f"grows ×{growth:.2f}, i.e. about chunks^{exponent:.2f}.")
    print(table(header, rows))
    for note in notes:
        print(note)
    if not args.no_record:
        body = (f"`{' '.join(['bench/retrieval.py', *sys.argv[1:]])}`: `engine.retrieve(q, k={K})` (hybrid: "
                f"MiniLM query embedding + Chroma HNSW + SQLite FTS5, fused), no LLM, {base['questions']} questions "
                f"of tests/data/qa_dev.jsonl, median of {args.repeats} passes; each store measured in a fresh "
                "process. Embed/dense/keyword are the parts timed separately (dense and keyword fetch "
                "40 candidates each). Hit@5 is article-level over the answerable questions (first turns of "
                "conversations): more distractor articles can push gold ones out.\n\n"
                + markdown_table(header, rows) + ("\n\n" + "\n".join(notes) if notes else ""))
        append_section("retrieval latency vs. store size", body)
        print(f"\nappended to {DOC}")


if __name__ == "__main__":
    main()
