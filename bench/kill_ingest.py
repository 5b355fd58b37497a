"""Crash test: SIGKILL an ingest at random points, re-run it each time, then compare with a clean ingest.

Ingests the 1,160-article vb-startup-funding corpus once into a clean data dir (the reference),
then into a second data dir, killing that ingest with SIGKILL at a random moment (during start-up,
recovery, embedding, the Chroma upsert, the SQLite commit or the deletes, wherever it falls) and
starting it again, ``--kills`` times. When a run finishes before its kill, the corpus file is
rewritten with every other article left out (so the next runs remove them, journaled deletes
included) or put back, and the loop goes on with the same store. A last run with the whole corpus
is left to finish. The two stores must then hold the same article ids, the same chunk ids in SQLite,
in Chroma and in the FTS5 keyword index, the same names and startup events, and nothing pending.

Each ingest runs in its own process (this script with ``--child``), so a kill is a real SIGKILL of
a process holding Chroma and SQLite open.

Usage (from the repo root):
    .venv/bin/python bench/kill_ingest.py                        # the real embedder (slow: ~10 min a pass)
    .venv/bin/python bench/kill_ingest.py --fake-embedder        # the hashed bag-of-words embedder
    .venv/bin/python bench/kill_ingest.py --fake-embedder --kills 3 --limit 120 --no-record   # as tests/ does

Without the shared corpus, ``seeds/`` plus ``--generated`` made-up articles stand in for it.
Prints a table of the kills and the comparison, and appends both to docs/benchmarks.md
(``--no-record`` to skip); exits 1 when the stores differ.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path and would shadow the ingest package with bench/ingest.py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"


def child(data: Path, inputs: list[str], fake: bool) -> None:
    """One ingest, as `assistant ingest` runs it; prints its report as JSON."""
    from assistant import load_settings
    from ingest import ingest

    settings = load_settings(env={}, data_dir=data)
    embedder = None
    if fake:
        from assistant.testing import FakeEmbedder

        embedder = FakeEmbedder()
    report = ingest(inputs, settings, embedder=embedder, progress=False)
    print(json.dumps({"added": len(report.added), "unchanged": report.unchanged, "recovered": report.recovered,
                      "removed": report.removed, "failed": report.failed, "chunks": report.chunks}), flush=True)


def corpus_lines(limit: int, generated: int) -> tuple[list[str], list[str]]:
    """The articles (JSON lines): the shared corpus (its first ``limit``), else made-up ones, which
    come with seeds/ as a second input."""
    if CORPUS.exists():
        lines = CORPUS.read_text(encoding="utf-8").splitlines()
        return (lines[:limit] if limit else lines), []
    rng = random.Random(7)
    lines = []
    for i in range(generated):
        body = " ".join(f"Startup{i} said in sentence {j} that it raised ${rng.randint(1, 900)} million from "
                        f"Investor{rng.randint(1, 50)} Capital." for j in range(rng.randint(5, 60)))
        lines.append(json.dumps({"id": f"gen-{i}", "title": f"Startup{i} raises money", "date": "2021-05-04",
                                 "body": body}))
    return lines, [str(ROOT / "seeds")]


def write_corpus(path: Path, lines: list[str], half: bool) -> None:
    path.write_text("\n".join(lines[::2] if half else lines) + "\n", encoding="utf-8")


def command(data: Path, inputs: list[str], fake: bool) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", "--data", str(data),
            *(["--fake-embedder"] if fake else []), *inputs]


def run_to_end(data: Path, inputs: list[str], fake: bool) -> tuple[dict, float]:
    started = time.perf_counter()
    done = subprocess.run(command(data, inputs, fake), capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"ingest failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def peek(data: Path) -> tuple[int, frozenset[str]]:
    """Articles committed and the ids in the journal, read without opening the Store (no recovery)."""
    import sqlite3

    path = data / "index.sqlite3"
    if not path.exists():
        return 0, frozenset()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (db.execute("SELECT count(*) FROM articles").fetchone()[0],
                frozenset(r[0] for r in db.execute("SELECT article_id FROM pending")))
    except sqlite3.Error:
        return 0, frozenset()
    finally:
        db.close()


def contents(data: Path) -> dict[str, object]:
    """What a store holds, everywhere it holds it."""
    from assistant.store import Store

    store = Store(data)
    db = store.db
    chunk_ids = sorted(r[0] for r in db.execute("SELECT id FROM chunks"))
    fts_ids = sorted(r[0] for r in db.execute("SELECT c.id FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid"))
    found = {q: [cid for cid, _ in store.search_keyword(q, 5)] for q in ("Series A funding", "acquires startup")}
    result = {
        "articles": sorted(r[0] for r in db.execute("SELECT id FROM articles")),
        "chunks": chunk_ids,
        "chroma": sorted(store.collection.get(include=[])["ids"]),
        "fts": fts_ids,
        "fts_rows": db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0],
        "names": db.execute("SELECT count(*), total(n) FROM names").fetchone(),
        "events": db.execute("SELECT count(*), total(amount) FROM events").fetchone(),
        "inputs": sorted(r[0] for r in db.execute("SELECT key FROM inputs")),
        "pending": db.execute("SELECT count(*) FROM pending").fetchone()[0],
        "keyword_search": found,
    }
    store.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs to deliver (default 20)")
    parser.add_argument("--max-rounds", type=int, default=0, help="bound on runs in the kill loop (default 3x kills)")
    parser.add_argument("--fake-embedder", action="store_true", help="hashed bag of words instead of MiniLM")
    parser.add_argument("--limit", type=int, default=0, help="only the corpus's first N articles")
    parser.add_argument("--generated", type=int, default=200, help="made-up articles when the corpus is missing")
    parser.add_argument("--seed", type=int, default=1, help="random kill times are drawn from this seed")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    parser.add_argument("--reuse-clean", action="store_true",
                        help="keep the clean store (and its timings) a previous run left in --work")
    parser.add_argument("--no-record", action="store_true", help="don't append the tables to docs/benchmarks.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("inputs", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.data, args.inputs, args.fake_embedder)
        return 0

    from bench.report import append_section, markdown_table, table

    work = args.work or Path(tempfile.mkdtemp(prefix="kill-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    clean, killed = work / "clean", work / "killed"
    timings = clean / "bench-timings.json"
    reuse = args.reuse_clean and timings.exists()
    for folder in (killed,) if reuse else (clean, killed):
        shutil.rmtree(folder, ignore_errors=True)
    lines, extra = corpus_lines(args.limit, args.generated)
    corpus = work / "corpus.jsonl"  # one path for both stores: the input keys must match
    write_corpus(corpus, lines, half=False)
    inputs = [*extra, str(corpus)]
    embedder = "fake (hashed bag of words)" if args.fake_embedder else "all-MiniLM-L6-v2"
    print(f"inputs: {', '.join(inputs)}; embedder: {embedder}; work: {work}", flush=True)

    if reuse:
        reference, total_s, startup_s, probe_s = json.loads(timings.read_text())
    else:
        reference, total_s = run_to_end(clean, inputs, args.fake_embedder)
        again, startup_s = run_to_end(clean, inputs, args.fake_embedder)  # nothing to do: start-up, read, plan
        assert again["added"] == 0 and again["unchanged"] == reference["added"], again
        from assistant.storecheck import probe_vectors

        started = time.perf_counter()
        assert probe_vectors(clean, "articles") is None
        probe_s = time.perf_counter() - started  # what a run after a kill spends checking Chroma first
        timings.write_text(json.dumps([reference, total_s, startup_s, probe_s]))
    work_s = max(total_s - startup_s, 1.0)
    print(f"clean ingest: {reference['added']} articles, {reference['chunks']} chunks in {total_s:.1f}s "
          f"(of which ~{startup_s:.1f}s start-up); unchanged re-run {startup_s:.1f}s; Chroma check after a kill "
          f"{probe_s:.1f}s", flush=True)
    startup_s += probe_s

    rng = random.Random(args.seed)
    rows, kills, rounds, finished_early, half = [], 0, 0, 0, False
    max_rounds = args.max_rounds or 3 * args.kills
    while kills < args.kills and rounds < max_rounds:
        rounds += 1
        # From half the start-up to start-up plus twice a fair share of the work left: some kills land
        # during start-up and recovery, most mid-write, and the work is spread over the kills.
        before, pending_before = peek(killed)
        todo = abs((len(lines) + 1) // 2 - before) if half else reference["added"] - before
        left = work_s * todo / max(reference["added"], 1) / (args.kills - kills)
        delay = rng.uniform(0.5 * startup_s, startup_s + 2 * left + 1.0)
        proc = subprocess.Popen(command(killed, inputs, args.fake_embedder), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        if proc.returncode == -signal.SIGKILL:
            kills += 1
            after, pending = peek(killed)
            if pending and pending == pending_before:
                where = "start-up or recovery (journal untouched)"
            elif pending and pending < pending_before:
                where = "recovery (journal partly cleared)"
            elif pending:
                where = "removing: journaled deletes" if half else "adding: journaled, vectors being written"
            elif after != before:
                where = "between groups" if not half else "after the deletes"
            else:
                where = "start-up, recovery, reading or chunking"
            rows.append([str(kills), "remove half" if half else "add", f"{delay:.2f}", str(before), str(after),
                         str(len(pending)), where])
            continue
        if proc.returncode != 0:
            print(err[-3000:], file=sys.stderr)
            return 1
        finished_early += 1  # the run finished before its kill: give the next ones work, the other way round
        rows.append(["-", "remove half" if half else "add", f"{delay:.2f}", str(before), "finished", "0",
                     "(too late: the corpus file is changed for the next run)"])
        half = not half
        write_corpus(corpus, lines, half)

    write_corpus(corpus, lines, half=False)
    final, final_s = run_to_end(killed, inputs, args.fake_embedder)
    rebuilt = len(list(killed.glob("chroma.damaged-*")))  # a Chroma index a kill had left unreadable
    got, want = contents(killed), contents(clean)
    checks = [
        ("article ids", len(want["articles"]), len(got["articles"]), got["articles"] == want["articles"]),
        ("chunk ids (SQLite)", len(want["chunks"]), len(got["chunks"]), got["chunks"] == want["chunks"]),
        ("chunk ids (Chroma)", len(want["chroma"]), len(got["chroma"]),
         got["chroma"] == got["chunks"] == want["chroma"]),
        ("FTS5 rows = chunk ids", want["fts_rows"], got["fts_rows"], got["fts"] == got["chunks"] == want["fts"]),
        ("inputs", len(want["inputs"]), len(got["inputs"]), got["inputs"] == want["inputs"]),
        ("names (rows, mentions)", want["names"], got["names"], got["names"] == want["names"]),
        ("events (rows, amounts)", want["events"], got["events"], got["events"] == want["events"]),
        ("keyword search top 5", "-", "-", got["keyword_search"] == want["keyword_search"]),
        ("pending after the last run", want["pending"], got["pending"], got["pending"] == 0),
    ]
    kill_table = (["kill", "run", "after (s)", "articles before", "articles after", "pending left",
                   "where it landed"], rows)
    check_table = (["check", "clean ingest", "killed 20x + resumed", "equal"],
                   [[name, str(a), str(b), "yes" if ok else "NO"] for name, a, b, ok in checks])
    print()
    print(table(*kill_table))
    print(f"\n{kills} kills in {rounds} runs ({finished_early} finished before their kill); "
          f"the last run finished in {final_s:.1f}s: recovered {final['recovered']}, added {final['added']}, "
          f"unchanged {final['unchanged']}, removed {final['removed']}; the Chroma index was found damaged and "
          f"rebuilt from the manifest {rebuilt} time(s)\n")
    print(table(*check_table).replace("killed 20x", f"killed {kills}x"))
    ok = all(ok for *_, ok in checks) and kills >= args.kills
    print("\nRESULT:", "the killed store equals the clean one" if ok else "MISMATCH")
    if not args.no_record:
        append_section(f"SIGKILL ingest ({embedder})", markdown_table(*kill_table) + "\n\n"
                       + markdown_table(*check_table).replace("killed 20x", f"killed {kills}x"))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
