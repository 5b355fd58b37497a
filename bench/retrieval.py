"""Retrieval benchmark: query latency (engine.retrieve, no LLM) and memory at ~1k, ~10k and ~50k chunks.

Stores are built once and cached in /tmp/bench-stores/<size> (a ``complete`` marker says a
store is finished; delete the folder to rebuild):
    1k   the first vb-startup-funding articles until ~1,000 chunks
    10k  all of vb-startup-funding + seeds/ (copied from --copy-10k, default /tmp/dvb, when it is
         a finished store; otherwise ingested)
    50k  the 10k store + vb-tech-news articles until ~50,000 chunks (~15 min of embedding)

Latency: all sizes are opened in one subprocess (extractive backend, no LLM; one shared
embedder) and every question of tests/data/qa_dev.jsonl (first turns of conversations) is asked
of every store in rotating order, ``--repeats`` passes, so load from other processes hits all
sizes alike. Reported: medians over passes of p50/p95 of ``engine.retrieve(q, k=4)``, of its
store-dependent part (retrieve minus the query embedding) and of the parts timed separately
(embedding, dense search, keyword search), and Hit@5 of the gold articles. Memory: each store
opened and warmed up alone in a fresh subprocess (RSS after warm-up, peak RSS).

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


def _settings(data_dir: Path):
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


class PartlySynthetic:
    """MiniLM for the first ``budget`` chunks, then synthetic vectors, for a store too big to embed
    in the time at hand. A synthetic vector is one of this run's real chunk vectors plus Gaussian
    noise (cosine ~0.85 to it), renormalised: the index holds as many vectors, spread like real
    ones, so HNSW's cost is that of a real store of this size; those chunks' text (and so the
    keyword index) is real. Dense *quality* on such a store means nothing (Hit@5 is not reported)."""

    SIGMA = 0.032  # per dimension: |noise| ~ 0.63, cos(base, base + noise) ~ 0.85 in 384 dimensions

    def __init__(self, real, budget: int, seed: int = 0) -> None:
        import random

        self.real, self.name, self.budget = real, real.name, budget
        self.real_chunks = self.synthetic_chunks = 0
        self.pool: list[list[float]] = []
        self.rng = random.Random(seed)

    def count_tokens(self, texts):
        return self.real.count_tokens(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        take = max(0, min(len(texts), self.budget - self.real_chunks))
        out = self.real.embed_documents(texts[:take]) if take else []
        self.real_chunks += take
        self.pool += out[:max(0, 20_000 - len(self.pool))]
        for _ in texts[take:]:
            base = self.pool[self.rng.randrange(len(self.pool))]
            vec = [b + self.rng.gauss(0.0, self.SIGMA) for b in base]
            norm = math.sqrt(sum(v * v for v in vec))
            out.append([v / norm for v in vec])
            self.synthetic_chunks += 1
        return out


def _ingest_until(data_dir: Path, records: list[str], target: int, batch: int, scratch: Path, tag: str,
                  embedder=None) -> None:
    """Ingest ``records`` (JSONL lines) in batches until the store holds ``target`` chunks."""
    from ingest import ingest

    settings = _settings(data_dir)
    scratch.mkdir(parents=True, exist_ok=True)
    n = 0
    while _count(data_dir)[1] < target and n < len(records):
        part = scratch / f"{tag}-{n:05d}.jsonl"
        part.write_text("".join(records[n:n + batch]), encoding="utf-8")
        report = ingest([part], settings, progress=False, embedder=embedder)
        n += batch
        print(f"  {tag}: +{report.chunks} chunks -> {_count(data_dir)[1]}", file=sys.stderr, flush=True)


def build_store(size: str, copy_10k: Path | None, real_chunks: int | None = None) -> Path:
    """The cached store for ``size``, built on first use. ``real_chunks``: for 50k, embed only that
    many of the added chunks with MiniLM and give the rest synthetic vectors (``PartlySynthetic``)."""
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
        embedder = None
        if real_chunks is not None:
            from assistant.backends import make_embedder

            embedder = PartlySynthetic(make_embedder(_settings(path)), real_chunks)
        _ingest_until(path, tech, TARGETS["50k"], 500, STORES / "parts", "tech", embedder)
    articles, chunks = _count(path)
    marker = {"articles": articles, "chunks": chunks, "build_s": time.perf_counter() - started}
    if size == "50k" and real_chunks is not None:
        base = _count(STORES / "10k")[1]
        marker.update(real_chunks=base + embedder.real_chunks, synthetic_chunks=embedder.synthetic_chunks,
                      note=f"{base} chunks copied from the 10k store and {embedder.real_chunks} vb-tech-news chunks "
                           f"embedded with MiniLM; {embedder.synthetic_chunks} vb-tech-news chunks with synthetic "
                           "vectors (PartlySynthetic)")
    (path / "complete").write_text(json.dumps(marker), encoding="utf-8")
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
    except Exception:
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


def measure_memory(data_dir: Path) -> dict:
    """Open one store as the app does, warm it up, and report its memory (in a fresh process)."""
    from assistant.backends import set_offline
    from assistant.chain import Engine

    set_offline()
    started = time.perf_counter()
    engine = Engine.from_settings(_settings(data_dir), chat_model=None)
    for q, _ in questions()[:5]:  # load the model, open Chroma, page in the HNSW index
        engine.retrieve(q, k=K)
    articles, chunks = engine.store.count()
    return {"articles": articles, "chunks": chunks, "open_s": time.perf_counter() - started,
            "rss_warm_mb": rss_mb(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "disk_mb": sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) / 1e6}


def measure_latency(paths: dict[str, Path], repeats: int) -> dict:
    """Time engine.retrieve and its parts on every store, interleaved question by question.

    All stores are open in one process with one shared embedder, and each question is asked of
    every store in a rotating order, so load from other processes hits all sizes alike.
    """
    from assistant.backends import make_embedder, set_offline
    from assistant.chain import Engine
    from assistant.eval import is_gold, percentile

    set_offline()
    embedder = make_embedder(_settings(next(iter(paths.values()))))
    engines = {size: Engine.from_settings(_settings(path), embedder=embedder, chat_model=None)
               for size, path in paths.items()}
    qs = questions()
    for engine in engines.values():
        for q, _ in qs[:5]:
            engine.retrieve(q, k=K)
    sources = {size: [row[0] for row in e.store.db.execute("SELECT source FROM articles")]
               for size, e in engines.items()}
    parts = ("total", "search", "embed", "dense", "keyword")
    samples = {size: [{p: [] for p in parts} for _ in range(repeats)] for size in engines}
    hits: dict[str, list[bool]] = {size: [] for size in engines}
    sizes = list(engines)
    for r in range(repeats):
        for i, (q, gold) in enumerate(qs):
            for size in sizes[(i + r) % len(sizes):] + sizes[:(i + r) % len(sizes)]:
                engine, sample = engines[size], samples[size][r]
                store = engine.store
                t0 = time.perf_counter()
                passages = engine.retrieve(q, k=K)
                total = time.perf_counter() - t0
                t0 = time.perf_counter()
                vector = embedder.embed_query(q)
                t1 = time.perf_counter()
                store.search_dense(vector, engine.retriever.candidates)
                t2 = time.perf_counter()
                store.search_keyword(q, engine.retriever.candidates)
                t3 = time.perf_counter()
                sample["total"].append(total)
                sample["search"].append(max(total - (t1 - t0), 0.0))  # what depends on the store's size
                sample["embed"].append(t1 - t0)
                sample["dense"].append(t2 - t1)
                sample["keyword"].append(t3 - t2)
                if r == 0 and gold and any(is_gold(s, gold) for s in sources[size]):  # gold is in this store
                    hits[size].append(any(is_gold(p.source, gold) for p in passages))
    out = {}
    for size in sizes:
        latency = {p: {q: statistics.median(percentile(samples[size][r][p], float(q[1:])) for r in range(repeats))
                       for q in ("p50", "p95")} for p in parts}
        out[size] = {"latency": latency, "questions": len(qs), "hit_n": len(hits[size]),
                     "hit@5": sum(hits[size]) / len(hits[size]) if hits[size] else None}
    return out


def _subprocess(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1k,10k,50k", help="comma-separated: 1k, 10k, 50k")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the questions (medians reported)")
    parser.add_argument("--copy-10k", type=Path, default=Path("/tmp/dvb"),
                        help="a finished store of seeds + vb-startup-funding to copy for 10k (read only)")
    parser.add_argument("--build-only", action="store_true", help="build the stores, measure nothing")
    parser.add_argument("--real-chunks", type=int,
                        help="50k build: embed only this many added chunks with MiniLM, the rest synthetic")
    parser.add_argument("--no-record", action="store_true", help="do not append to docs/benchmarks.md")
    parser.add_argument("--memory", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--latency", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory:  # inside a subprocess
        print(json.dumps(measure_memory(args.memory)))
        return
    if args.latency:
        print(json.dumps(measure_latency({s: STORES / s for s in args.latency}, args.repeats)))
        return

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = set(sizes) - set(TARGETS)
    if unknown:
        sys.exit(f"unknown size(s) {', '.join(sorted(unknown))}; choose from {', '.join(TARGETS)}")
    from assistant.backends import set_offline

    set_offline()
    paths = {size: build_store(size, args.copy_10k, args.real_chunks) for size in sizes}
    built = {size: json.loads((paths[size] / "complete").read_text()) for size in sizes}
    if args.build_only:
        return
    memory = {}
    for size in sizes:
        print(f"memory of {size} ...", file=sys.stderr, flush=True)
        memory[size] = _subprocess(["--memory", str(paths[size])])
    print(f"latency, {args.repeats} interleaved pass(es) ...", file=sys.stderr, flush=True)
    latency = _subprocess(["--latency", *sizes, "--repeats", str(args.repeats)])

    base = sizes[0]

    def ms(size: str, part: str, q: str = "p50") -> str:
        return f"{1000 * latency[size]['latency'][part][q]:.1f}"

    def growth(size: str, part: str) -> float:
        return latency[size]["latency"][part]["p50"] / latency[base]["latency"][part]["p50"]

    header = ["store", "articles", "chunks", "retrieve p50 ms", "retrieve p95 ms", "search p50 ms",
              "search × vs first", "embed p50 ms", "dense p50 ms", "keyword p50 ms", "Hit@5", "RSS warm MB",
              "peak RSS MB", "disk MB"]
    rows = []
    for size in sizes:
        m, lat = memory[size], latency[size]
        rows.append([size, m["articles"], m["chunks"], ms(size, "total"), ms(size, "total", "p95"),
                     ms(size, "search"), f"×{growth(size, 'search'):.2f}", ms(size, "embed"), ms(size, "dense"),
                     ms(size, "keyword"),
                     "–" if lat["hit@5"] is None else f"{100 * lat['hit@5']:.0f}% (n={lat['hit_n']})",
                     f"{m['rss_warm_mb']:.0f}", f"{m['peak_rss_mb']:.0f}", f"{m['disk_mb']:.0f}"])
    notes = []
    if len(sizes) > 1:
        last = sizes[-1]
        scale = memory[last]["chunks"] / memory[base]["chunks"]

        def exponent(part: str) -> str:
            g = growth(last, part)
            return f"{math.log(g) / math.log(scale):.2f}" if scale > 1 and g > 0 else "n/a"

        notes.append(f"From {memory[base]['chunks']:,} to {memory[last]['chunks']:,} chunks (×{scale:.0f}): the "
                     f"whole retrieve p50 grows ×{growth(last, 'total'):.2f} (about chunks^{exponent('total')}), "
                     f"the store-dependent search part ×{growth(last, 'search'):.2f} (chunks^{exponent('search')}); "
                     f"keyword search ×{growth(last, 'keyword'):.2f}, dense (HNSW) ×{growth(last, 'dense'):.2f}. "
                     "Embedding the question costs the same at every size.")
    for size in sizes:
        if "synthetic_chunks" in built[size]:
            notes.append(f"**The {size} store is partly synthetic**: {built[size]['note']}. Its Hit@5 is not "
                         "meaningful; its latency and memory are those of a store of that many chunks, and the "
                         "question is embedded by the real MiniLM encoder.")
            rows[sizes.index(size)][10] = "– (synthetic vectors)"
    print(table(header, rows))
    for note in notes:
        print(note)
    if not args.no_record:
        body = (f"`{' '.join(['bench/retrieval.py', *sys.argv[1:]])}`: `engine.retrieve(q, k={K})` (hybrid: "
                f"MiniLM query embedding + Chroma HNSW + SQLite FTS5, fused), no LLM, "
                f"{latency[base]['questions']} questions of tests/data/qa_dev.jsonl (first turns of "
                f"conversations), {args.repeats} pass(es), medians of the per-pass percentiles. All stores are "
                "timed in one process with one embedder, each question asked of every store in rotating order, "
                "so load from other processes hits all sizes alike. *Search* = retrieve − the query embedding "
                "(the part that depends on the store); embed/dense/keyword are timed separately (dense and "
                "keyword fetch 40 candidates each). Memory: each store opened and warmed up alone in a fresh "
                "process. Hit@5 is article-level, over the answerable questions whose gold article is in that "
                "store.\n\n" + markdown_table(header, rows) + ("\n\n" + "\n".join(notes) if notes else ""))
        append_section("retrieval latency vs. store size", body)
        print(f"\nappended to {DOC}")


if __name__ == "__main__":
    main()
