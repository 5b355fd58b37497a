"""Ingest benchmark: our pipeline vs. the naive LangChain pipeline on the same articles.

Ingests vb-startup-funding (+ seeds/) into a fresh temporary data dir and reports chunks/s,
total time, peak memory (ru_maxrss of a process that did only that) and the time of a second,
unchanged ingest; then times the naive pipeline (RecursiveCharacterTextSplitter 1000/200 +
HuggingFaceEmbeddings + Chroma.from_documents) over the same files and prints the ratio.
Each pipeline runs in its own subprocess so their peak memory is separate; the embedding
models are loaded before the clock starts (their load time is reported on its own).

Usage (from the repo root):
    .venv/bin/python bench/ingest.py                 # the whole corpus, ~4 min per pipeline
    .venv/bin/python bench/ingest.py --limit 100     # a quick run on the first 100 articles
    .venv/bin/python bench/ingest.py --repeats 3     # medians over three passes

Appends a dated section to docs/benchmarks.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path and its ingest.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.report import DOC, append_section, markdown_table, table  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"
SEEDS = ROOT / "seeds"


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_engine(inputs: list[Path], work: Path, workers: int = 1) -> dict:
    """Our ingest into a fresh data dir, then the same again unchanged. With workers, each worker
    process loads its own embedder inside the clock (that is part of what --workers costs)."""
    from assistant import load_settings
    from assistant.backends import make_embedder, set_offline
    from ingest import ingest

    set_offline()
    settings = load_settings(env={}, data_dir=work / "engine", ingest_workers=workers)
    started = time.perf_counter()
    embedder = make_embedder(settings)
    embedder.embed_documents(["warm up"])  # (embed_query would load only the numpy query encoder)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    report = ingest(inputs, settings, embedder=embedder, progress=False)
    total_s = time.perf_counter() - started
    started = time.perf_counter()
    again = ingest(inputs, settings, embedder=embedder, progress=False)
    reingest_s = time.perf_counter() - started
    return {"articles": len(report.added), "chunks": report.chunks, "total_s": total_s, "load_s": load_s,
            "reingest_s": reingest_s, "reingest_unchanged": again.unchanged, "reingest_chunks": again.chunks,
            "failed": len(report.failed), "peak_rss_mb": peak_rss_mb(), "disk_mb": _du_mb(work / "engine"),
            "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def phase_naive(inputs: list[Path], work: Path) -> dict:
    """Load with the same loaders, split 1000/200, embed with HuggingFaceEmbeddings, Chroma.from_documents."""
    from assistant.eval import naive

    started = time.perf_counter()
    embeddings = naive.make_embeddings()
    embeddings.embed_query("warm up")
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    articles = naive.load_articles(inputs)
    documents = naive.split_documents(articles)
    naive.build_index(documents, work / "naive", embeddings)
    total_s = time.perf_counter() - started
    return {"articles": len(articles), "chunks": len(documents), "total_s": total_s, "load_s": load_s,
            "peak_rss_mb": peak_rss_mb(), "disk_mb": _du_mb(work / "naive")}


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def run_phase(name: str, inputs: list[Path]) -> dict:
    """One pipeline in a fresh subprocess (fresh memory, fresh temp dir)."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-ingest-{name}-"))
    try:
        cmd = [sys.executable, __file__, "--phase", name, "--work", str(work), "--inputs", *map(str, inputs)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if done.returncode != 0:
            sys.exit(f"{name} phase failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N articles of the corpus")
    parser.add_argument("--repeats", type=int, default=1, help="passes of each pipeline (medians are reported)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive pipeline")
    parser.add_argument("--no-record", action="store_true", help="do not append to docs/benchmarks.md")
    parser.add_argument("--workers", default="1,2", help="worker counts of our ingest to time (comma-separated)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", nargs="+", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:  # inside the subprocess
        result = (phase_naive(args.inputs, args.work) if args.phase == "naive"
                  else phase_engine(args.inputs, args.work, int(args.phase.split("-w")[1])))
        print(json.dumps(result))
        return

    if not CORPUS.exists():
        sys.exit(f"corpus {CORPUS} not found")
    inputs, scratch = [SEEDS, CORPUS], None
    if args.limit:
        scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-corpus-"))
        subset = scratch / "articles.jsonl"
        with CORPUS.open(encoding="utf-8") as src, subset.open("w", encoding="utf-8") as dst:
            for n, line in enumerate(src):
                if n >= args.limit:
                    break
                dst.write(line)
        inputs = [SEEDS, subset]
    try:
        names = [f"engine-w{int(w)}" for w in args.workers.split(",")] + ["naive"]
        runs: dict[str, list[dict]] = {name: [] for name in names}
        for r in range(args.repeats):
            for name in names:
                if name == "naive" and args.no_naive:
                    continue
                print(f"pass {r + 1}/{args.repeats}: {name} ...", file=sys.stderr, flush=True)
                runs[name].append(run_phase(name, inputs))
                print(f"  {json.dumps(runs[name][-1])}", file=sys.stderr, flush=True)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    def med(name: str, key: str) -> float:
        return statistics.median(x[key] for x in runs[name])

    header = ["pipeline", "articles", "chunks", "total s", "chunks/s", "articles/s", "peak RSS MB",
              "model load s", "re-ingest unchanged s", "store MB"]
    rows = []
    for name in names:
        if not runs[name]:
            continue
        first = runs[name][0]
        total = med(name, "total_s")
        rows.append([
            f"ours (assistant ingest --workers {name.split('-w')[1]})" if name != "naive" else "naive LangChain",
            first["articles"], first["chunks"], f"{total:.1f}", f"{first['chunks'] / total:.1f}",
            f"{first['articles'] / total:.2f}",
            f"{med(name, 'peak_rss_mb'):.0f}" + (f" (+ {workers} × {med(name, 'worker_peak_rss_mb'):.0f})"
                                                if (workers := int(name.split("-w")[1]) if name != "naive" else 1) > 1
                                                else ""), f"{med(name, 'load_s'):.1f}",
            f"{med(name, 'reingest_s'):.2f} ({first['reingest_unchanged']} unchanged, "
            f"{first['reingest_chunks']} re-embedded)" if name != "naive" else "– (rebuilds)",
            f"{first['disk_mb']:.0f}"])
    notes = []
    for name in names[:-1]:
        if not runs["naive"] or not runs[name]:
            continue
        ratio = med("naive", "total_s") / med(name, "total_s")
        notes.append(f"`--workers {name.split('-w')[1]}`: naive / ours total time on the same articles: "
                     f"**×{ratio:.2f}** (ours {med(name, 'total_s'):.0f} s, naive {med('naive', 'total_s'):.0f} s); "
                     f"per chunk ours {runs[name][0]['chunks'] / med(name, 'total_s'):.1f}/s, naive "
                     f"{runs['naive'][0]['chunks'] / med('naive', 'total_s'):.1f}/s.")
    if runs["naive"] and notes:
        engine = runs[names[0]][0]
        notes.append("Chunks differ in size (ours: ≤160 MiniLM tokens with a title header, 48-token overlap; "
                     "naive: 1000 characters, 200 overlap), so compare times per corpus, not per chunk; ours makes "
                     f"×{engine['chunks'] / runs['naive'][0]['chunks']:.2f} as many chunks.")
    print(table(header, rows))
    for note in notes:
        print(note.replace("**", ""))
    if not args.no_record:
        corpus = f"first {args.limit} articles of vb-startup-funding" if args.limit else "all of vb-startup-funding"
        body = (f"`{' '.join(['bench/ingest.py', *sys.argv[1:]])}`: {corpus} + seeds/, "
                f"median of {args.repeats} pass(es) per pipeline, each in a fresh process and data dir.\n\n"
                + markdown_table(header, rows) + "\n\n" + "\n".join(notes))
        append_section("ingest", body)
        print(f"\nappended to {DOC}")


if __name__ == "__main__":
    main()
