"""Cold start: how long a fresh ``assistant ask`` takes, and where that time goes.

Two kinds of fresh process, each run ``--repeats`` times, interleaved between the trees compared:

- *command*: ``python -m assistant.cli ask Q`` exactly as a user runs it; timed from spawn to the
  first byte of the answer on stdout (first token) and to exit (whole answer).
- *stages*: the same work done step by step, each step timed: interpreter start, imports (what
  ``assistant ask`` imports before it builds the engine, and the engine's modules), engine built
  (SQLite store opened), embedder load (torch + sentence-transformers + MiniLM), Chroma open, GGUF
  check (``models.assemble_gguf``: find, and verify, the assembled model), model load (llama.cpp
  maps the GGUF), first token and whole answer of ``engine.stream``. The steps run one after the
  other, so this is an attribution of cost; the command itself may overlap steps.

``--before PATH`` adds a second checkout (e.g. ``git archive HEAD | tar -x -C /tmp/before``, main
without the working tree's changes) measured in the same run, so the two share the machine's load.
"Cold" means a fresh Python process; the OS page cache is left as it is (the GGUF stays cached
between runs on a machine with the RAM for it, as on a laptop that ran the assistant before).

Usage (from the repo root):
    .venv/bin/python bench/cold_start.py --data-dir /tmp/speed/store --before /tmp/before
Appends a dated section to docs/benchmarks.md (``--no-record`` to skip).
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUESTION = "How much did SenseTime raise from Alibaba and other investors in 2018?"
HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "llama_cpp", "gradio", "langchain_openai")
STAGES = ("interpreter", "imports", "engine", "embedder", "chroma", "gguf_check", "model_load", "first_token",
          "answer")


def stages(data_dir: str, question: str) -> dict:
    """Run in a fresh process under the tree being measured (its PYTHONPATH); one line of JSON."""
    t0 = float(os.environ["COLD_T0"])
    marks = {"interpreter": time.time()}

    def mark(name: str) -> None:
        marks[name] = time.time()

    import assistant.cli
    from assistant.chain import Engine
    from assistant.config import load_settings
    from assistant.documents import Answer
    from assistant.logs import setup_logging
    from assistant.models import assemble_gguf

    setup_logging(0)
    mark("imports")
    imported = [m for m in HEAVY if m in sys.modules]
    settings = load_settings(data_dir=data_dir)
    engine = Engine.from_settings(settings)
    mark("engine")
    engine.embedder.embed_query("warm up")
    mark("embedder")
    engine.store.collection.count()
    mark("chroma")
    assemble_gguf(Path(settings.model_dir))
    mark("gguf_check")
    engine.chat_model.load()
    mark("model_load")
    for event in engine.stream(question):
        if isinstance(event, str) and "first_token" not in marks:
            mark("first_token")
        elif isinstance(event, Answer):
            mark("answer")
    marks.setdefault("first_token", marks["answer"])
    out, last = {}, t0
    for name in STAGES:
        out[name] = marks[name] - last
        last = marks[name]
    return {"parts": out, "total": marks["answer"] - t0, "heavy_after_imports": imported,
            "assistant": str(Path(assistant.cli.__file__).parents[1])}


def run_stages(tree: Path, data_dir: str, question: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "COLD_T0": repr(time.time())}
    done = subprocess.run([sys.executable, __file__, "--stage", "--data-dir", data_dir, "--question", question],
                          capture_output=True, text=True, cwd=tree, env=env)
    if done.returncode != 0:
        sys.exit(f"stages in {tree} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["assistant"]).resolve() != tree.resolve():
        sys.exit(f"measured {result['assistant']}, not {tree}")
    return result


def run_command(tree: Path, data_dir: str, question: str) -> dict:
    """``assistant ask`` in a fresh process: seconds to the first answer byte and to exit."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ask", question, "--data-dir", data_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tree, env=env)
    assert proc.stdout is not None
    first = proc.stdout.read(1)
    first_s = time.perf_counter() - started
    rest = proc.stdout.read()
    err = proc.stderr.read() if proc.stderr else b""
    code = proc.wait()
    total_s = time.perf_counter() - started
    if code != 0:
        sys.exit(f"assistant ask in {tree} exited {code}:\n{err.decode()[-3000:]}")
    return {"first_token": first_s, "answer": total_s, "text": (first + rest).decode()}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="a finished store (its models/ holds the GGUF)")
    parser.add_argument("--before", type=Path, help="another checkout to measure in the same run")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--stage", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stages(args.data_dir, args.question)))
        return

    trees = {"after": ROOT}
    if args.before:
        trees = {"before": args.before.resolve(), "after": ROOT}
    results: dict[str, dict[str, list]] = {name: {"stages": [], "command": []} for name in trees}
    # The first start after install (or after the model changed) does what later ones skip: it
    # hashes the GGUF once and saves the prompt state. Timed apart, from no saved files.
    models = Path(args.data_dir) / "models"
    for stale in [*models.glob("*.verified"), *models.glob("*.prefix-*.kv")]:
        stale.unlink()
    first = {}
    for name, tree in trees.items():
        print(f"first start: {name} ...", file=sys.stderr, flush=True)
        first[name] = run_command(tree, args.data_dir, args.question)
    for r in range(args.repeats):
        for name, tree in trees.items():
            print(f"pass {r + 1}/{args.repeats}: {name} ...", file=sys.stderr, flush=True)
            results[name]["command"].append(run_command(tree, args.data_dir, args.question))
            results[name]["stages"].append(run_stages(tree, args.data_dir, args.question))

    sys.path[:0] = [str(ROOT)]
    from bench.report import DOC, append_section, markdown_table, table

    header = ["step", *[f"{name} s (median of {args.repeats})" for name in trees]]
    rows = []
    for part in STAGES:
        rows.append([part, *[f"{median([s['parts'][part] for s in results[n]['stages']]):.2f}" for n in trees]])
    rows.append(["**stages total**", *[f"{median([s['total'] for s in results[n]['stages']]):.2f}" for n in trees]])
    for what in ("first_token", "answer"):
        rows.append([f"**`assistant ask`: {what.replace('_', ' ')}**",
                     *[f"{median([c[what] for c in results[n]['command']]):.2f}" for n in trees]])
    rows.append(["`assistant ask` right after install: answer (once)", *[f"{first[n]['answer']:.2f}" for n in trees]])
    heavy = {n: results[n]["stages"][-1]["heavy_after_imports"] for n in trees}
    runs = {n: " / ".join(f"{c['answer']:.1f}" for c in results[n]["command"]) for n in trees}
    notes = ["Heavy modules loaded by the imports step: " + "; ".join(f"{n}: {', '.join(h) or 'none'}"
                                                                      for n, h in heavy.items()),
             "Each `assistant ask` run (s, whole answer): " + "; ".join(f"{n}: {v}" for n, v in runs.items()),
             f"Answer (after): {results['after']['command'][-1]['text'].strip()[:300]!r}"]
    print(table(header, rows))
    print("\n".join(notes))
    if not args.no_record:
        body = (f"`bench/cold_start.py --repeats {args.repeats}`: a fresh `assistant ask` on the embedded "
                f"Qwen2.5 1.5B (Q4_K_M), store `{args.data_dir}`, question {args.question!r}. "
                + ("*before* = main without this change, *after* = the working tree, interleaved in one run. "
                   if args.before else "")
                + "Steps are timed one after the other in a separate fresh process (their sum is the "
                "*stages total*); the two bold `assistant ask` rows time the real command from spawn. The OS page "
                "cache was warm (the GGUF had been read before). Shared 2-core machine: medians of "
                f"{args.repeats} runs.\n\n" + markdown_table(header, rows) + "\n\n"
                + "\n".join(f"- {n}" for n in notes))
        append_section("cold start of `assistant ask`", body)
        print(f"\nappended to {DOC}")


if __name__ == "__main__":
    if "--stage" in sys.argv:  # measure the tree on PYTHONPATH, not this one; bench/ must not shadow ingest
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    main()
