"""Chroma server vs. embedded Chroma: what moving the vectors to a server (on loopback) costs.

Both stores are built in the same invocation from the same articles (vb-startup-funding + seeds/)
with ``FakeEmbedder`` (64 dimensions, no model), so the figures are the store's own work: chunking,
the SQLite manifest and keyword index, and the vector writes (HTTP for the server). Then the
questions of tests/data/qa_dev.jsonl are asked of both stores in alternation, ``--repeats`` passes:
``engine.retrieve`` (dense search + keyword search + fusion, no LLM) and its dense search alone.

Usage (from the repo root):
    .venv/bin/python bench/chroma_server.py               # ~5 min
    .venv/bin/python bench/chroma_server.py --limit 200   # a quick run

Appends a dated section to docs/benchmarks.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from report import append_section, markdown_table, table  # noqa: E402
from servers import ServerProcess  # noqa: E402

from assistant.chain import Engine  # noqa: E402
from assistant.config import load_settings  # noqa: E402
from assistant.testing import FakeEmbedder  # noqa: E402
from ingest import ingest  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"


def _questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "qa_dev.jsonl").open()]
    return [row.get("question") or row["turns"][0] for row in rows]  # (a conversation: its first turn)


def _ms(values: list[float], q: float) -> str:
    return f"{statistics.quantiles(values, n=100)[int(q) - 1] * 1000:.1f}" if len(values) > 1 else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="only the first N articles of the corpus")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-chroma-server-"))
    inputs = [ROOT / "seeds", CORPUS]
    if args.limit:
        lines = CORPUS.read_text().splitlines()[:args.limit]
        (work / "articles.jsonl").write_text("\n".join(lines) + "\n")
        inputs = [ROOT / "seeds", work / "articles.jsonl"]
    import chromadb  # noqa: F401  (imported before timing: the first store would pay for it)

    server = ServerProcess.chroma(work / "chroma-server").start()
    try:
        kinds = {"embedded": load_settings(data_dir=work / "embedded", env={}, llm_backend="extractive"),
                 "server": load_settings(data_dir=work / "server", env={}, llm_backend="extractive",
                                         store_host="127.0.0.1", store_port=server.port)}
        rows, engines, build = [], {}, {}
        for kind, settings in kinds.items():
            started = time.perf_counter()
            report = ingest(inputs, settings, embedder=FakeEmbedder(), progress=False)
            first = time.perf_counter() - started
            started = time.perf_counter()
            ingest(inputs, settings, embedder=FakeEmbedder(), progress=False)
            again = time.perf_counter() - started
            build[kind] = (report.chunks, first, again)
            engines[kind] = Engine.from_settings(settings, embedder=FakeEmbedder())
        questions = _questions()
        timings: dict[str, dict[str, list[float]]] = {k: {"retrieve": [], "dense": []} for k in kinds}
        for _ in range(args.repeats):
            for question in questions:
                for kind, engine in engines.items():
                    started = time.perf_counter()
                    engine.retrieve(question, k=4)
                    timings[kind]["retrieve"].append(time.perf_counter() - started)
                    vector = engine.embedder.embed_query(question)
                    started = time.perf_counter()
                    engine.store.search_dense(vector, 40)
                    timings[kind]["dense"].append(time.perf_counter() - started)
        for kind in kinds:
            chunks, first, again = build[kind]
            t = timings[kind]
            rows.append([kind, str(chunks), f"{first:.1f}", f"{chunks / first:.0f}", f"{again:.1f}",
                         _ms(t["retrieve"], 50), _ms(t["retrieve"], 95), _ms(t["dense"], 50), _ms(t["dense"], 95)])
        ratio = statistics.median(timings["server"]["retrieve"]) / statistics.median(timings["embedded"]["retrieve"])
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    header = ["vectors", "chunks", "ingest s", "chunks/s", "unchanged re-ingest s", "retrieve p50 ms",
              "retrieve p95 ms", "dense p50 ms", "dense p95 ms"]
    print(table(header, rows))
    print(f"retrieve median, server / embedded: {ratio:.2f}")
    if not args.no_record:
        append_section("Chroma server vs. embedded Chroma", f"""
`bench/chroma_server.py{f' --limit {args.limit}' if args.limit else ''}`: {len(questions)} questions x
{args.repeats} passes per store, alternating; FakeEmbedder (64 dimensions), so only the store's work is
timed; the server is `chroma run` on loopback (chromadb 1.5.9).

{markdown_table(header, rows)}

Median `engine.retrieve`, server / embedded: **{ratio:.2f}**.
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
