"""Web load: N concurrent chat sessions against the running web app through ``gradio_client``.

Each session asks about a different article ("How much did X raise?"), then a follow-up that
only its own history makes answerable ("Who led that round?", history passed by the client as
the ``/answer`` endpoint takes it). Checked: every request completes within ``--timeout`` (or
waits in the queue, whose position the client is told), none errors, and no answer leaks into
another session (each must cite its own article and none of the other sessions' articles, and
its follow-up must be rewritten with its own company). Measured: latency p50/p95 per request,
queue wait (the latency less the engine's own time for the answer), and the server's RSS before, at peak and after.

The server is started here (``assistant serve --backend extractive``: the real embedder and
Chroma, no LLM) unless ``--url`` points at a running one. The embedded LLM serializes answers at
~10-20 s each (one generation at a time), so with it 16 sessions queue for minutes; extractive
measures what the web layer, retrieval and verification sustain.

The sessions run ``--rounds`` times against the same server, so its RSS after each round shows
whether memory grows with use.

Usage (from the repo root):
    .venv/bin/python bench/web_load.py --data-dir /tmp/bench-stores/web-vb            # ingests the corpus once
    .venv/bin/python bench/web_load.py --url http://127.0.0.1:7860 --server-pid 1234 --no-record

Appends a dated section to docs/benchmarks.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.report import DOC, append_section, markdown_table, table  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"
FOLLOW_UP = "Who led that round?"
_FUNDING = re.compile(r"^(?!The )(?P<name>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,2})\s+"
                      r"(?i:raises|lands|secures|closes)\s+\$")


@dataclass(frozen=True)
class Target:
    """The article a session asks about: its company and title."""

    name: str
    title: str


@dataclass
class Request:
    session: int
    turn: int
    question: str
    latency_s: float = 0.0
    queue_wait_s: float = 0.0  # latency minus the engine's time for the answer: the queue, the web layer
    queue_rank: int | None = None  # the highest queue position the client was told (polled, so a lower bound)
    answer: dict = field(default_factory=dict)
    error: str = ""


@dataclass
class Load:
    requests: list[Request]
    wall_s: float
    rss_mb: tuple[float, float, float]  # before, peak, after; 0 when the server's pid is unknown
    problems: list[str]  # errors, timeouts, unfinished sessions, leaks between sessions
    misses: list[str]  # a session's own article not cited, a follow-up not rewritten: answer quality


def pick_targets(corpus: Path, n: int) -> list[Target]:
    """``n`` funding articles, spread over the corpus, whose company names no other title has."""
    titles = [json.loads(line)["title"] for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    found = []
    for title in titles:
        match = _FUNDING.match(title)
        if match and len(match.group("name")) > 3:
            name = match.group("name")
            if sum(name.lower() in t.lower() for t in titles) == 1:
                found.append(Target(name, title))
    if len(found) < n:
        raise SystemExit(f"only {len(found)} usable funding articles in {corpus}")
    return [found[i * len(found) // n] for i in range(n)]


def _ask(client, request: Request, history: list[dict], timeout_s: float) -> None:
    from gradio_client.utils import Status

    started = time.perf_counter()
    job = client.submit(question=request.question, history_json=json.dumps(history), api_name="/answer")
    while not job.done():
        status = job.status()
        if status.code == Status.IN_QUEUE and status.rank is not None:
            request.queue_rank = max(request.queue_rank or 0, status.rank + 1)
        if time.perf_counter() - started > timeout_s:
            job.cancel()
            request.error = f"no answer within {timeout_s:.0f} s"
            return
        time.sleep(0.02)
    try:
        request.answer = job.result(timeout=5)
    except Exception as exc:  # any failure is a finding, reported with the rest
        request.error = f"{type(exc).__name__}: {exc}"
    request.latency_s = time.perf_counter() - started
    # Waiting, not answering: the engine's own time for the answer is in it (the client sees
    # queue messages too sparsely to time the wait from them).
    request.queue_wait_s = max(0.0, request.latency_s - request.answer.get("timings", {}).get("total_s", 0.0))


def run_session(url: str, session: int, target: Target, timeout_s: float,
                auth: tuple[str, str] | None = None) -> list[Request]:
    """A question about ``target``, then the follow-up with this session's own history."""
    from gradio_client import Client

    client = Client(url, auth=auth, verbose=False)
    first = Request(session, 1, f"How much did {target.name} raise?")
    _ask(client, first, [], timeout_s)
    if first.error:
        return [first]
    second = Request(session, 2, FOLLOW_UP)
    _ask(client, second, [{"role": "user", "content": first.question},
                          {"role": "assistant", "content": first.answer.get("answer", "")}], timeout_s)
    return [first, second]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def problems_of(requests: Sequence[Request], targets: Sequence[Target]) -> tuple[list[str], list[str]]:
    """Failures (errors, unfinished sessions, answers leaked between sessions), and misses (a
    session's own article not cited, its follow-up not rewritten with its company)."""
    problems, misses = [], []
    for r in requests:
        target = targets[r.session]
        others = [t for i, t in enumerate(targets) if i != r.session]
        if r.error:
            problems.append(f"session {r.session} turn {r.turn}: {r.error}")
            continue
        cited = {c["title"] for c in r.answer.get("citations", [])}
        if target.title not in cited:
            misses.append(f"session {r.session} turn {r.turn}: its own article is not cited ({sorted(cited)})")
        leaked = [t.title for t in others if t.title in cited]
        standalone = r.answer.get("standalone_question", "")
        leaked += [f"{t.name} in {standalone!r}" for t in others if t.name.lower() in standalone.lower()]
        if leaked:
            problems.append(f"session {r.session} turn {r.turn}: LEAK {leaked}")
        if r.turn == 2 and target.name.lower() not in standalone.lower():
            misses.append(f"session {r.session}: follow-up not rewritten with its own company: {standalone!r}")
    if len({r.session for r in requests if r.turn == 2 and not r.error}) != len(targets):
        problems.append("not every session finished both turns")
    return problems, misses


def run_load(url: str, targets: Sequence[Target], timeout_s: float = 600, server_pid: int | None = None,
             auth: tuple[str, str] | None = None) -> Load:
    """Every session at once, each in its own thread and gradio_client session."""
    before = rss_mb(server_pid) if server_pid else 0.0
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            peak[0] = max(peak[0], rss_mb(server_pid))

    sampler = threading.Thread(target=sample, daemon=True)
    if server_pid:
        sampler.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(len(targets)) as pool:
        futures = [pool.submit(run_session, url, i, t, timeout_s, auth) for i, t in enumerate(targets)]
        requests = []
        for i, future in enumerate(futures):
            try:
                requests += future.result()
            except Exception as exc:  # a session that could not even connect
                requests.append(Request(i, 1, "", error=f"{type(exc).__name__}: {exc}"))
    wall = time.perf_counter() - started
    stop.set()
    if server_pid:
        sampler.join()
    after = rss_mb(server_pid) if server_pid else 0.0
    return Load(requests, wall, (before, max(peak[0], after), after), *problems_of(requests, targets))


def percentile(values: Sequence[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, round(q * len(values) + 0.5) - 1))]


def summary_rows(load: Load) -> list[list[str]]:
    ok = [r for r in load.requests if not r.error]
    lat = [r.latency_s for r in ok]
    wait = [r.queue_wait_s for r in ok]
    queued = [r for r in ok if r.queue_rank]
    before, peak, after = load.rss_mb
    return [["requests (ok / total)", f"{len(ok)} / {len(load.requests)}"],
            ["latency p50 / p95 / max", f"{percentile(lat, .5):.2f} / {percentile(lat, .95):.2f} / "
                                        f"{max(lat, default=0):.2f} s"],
            ["queue wait p50 / p95 / max", f"{percentile(wait, .5):.2f} / {percentile(wait, .95):.2f} / "
                                           f"{max(wait, default=0):.2f} s"],
            ["saw their queue position (polled)",
             f"{len(queued)} (deepest: {max((r.queue_rank or 0 for r in queued), default=0)})"],
            ["throughput", f"{len(ok) / load.wall_s:.2f} answers/s over {load.wall_s:.1f} s"],
            ["server RSS before / peak / after", f"{before:.0f} / {peak:.0f} / {after:.0f} MB"],
            ["errors, timeouts, leaks", str(len(load.problems))],
            ["own article not cited / follow-up not rewritten", str(len(load.misses))]]


def _start_server(data_dir: Path, port: int, corpus: Path, tmp: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(GRADIO_TEMP_DIR=str(tmp / "gradio"), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    command = [sys.executable, "-m", "assistant.cli", "serve", "--data-dir", str(data_dir), "--port", str(port),
               "--backend", "extractive", "--ingest", str(corpus), str(ROOT / "seeds")]
    log = (tmp / "server.log").open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"the server did not start within {timeout_s:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--url", help="a running web app (default: start `assistant serve --backend extractive`)")
    parser.add_argument("--server-pid", type=int, help="its process id, for RSS (with --url)")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/bench-stores/web-vb"))
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--port", type=int, default=7871)
    parser.add_argument("--timeout", type=float, default=600, help="seconds one request may take, queue included")
    parser.add_argument("--rounds", type=int, default=3, help="run the sessions this many times (RSS after each)")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    targets = pick_targets(args.corpus, args.sessions)
    proc = None
    tmp = Path(tempfile.mkdtemp(prefix="web-load-"))
    url, pid = args.url, args.server_pid
    if url is None:
        url = f"http://127.0.0.1:{args.port}"
        started = time.perf_counter()
        proc = _start_server(args.data_dir, args.port, args.corpus, tmp)
        _wait_until_up(url, proc, 3600, tmp / "server.log")
        pid = proc.pid
        print(f"server up in {time.perf_counter() - started:.0f} s (extractive backend, real embedder)")
    rounds: list[Load] = []
    try:
        for _ in range(args.rounds):
            rounds.append(run_load(url, targets, args.timeout, pid))
            print(f"round {len(rounds)}: {rounds[-1].wall_s:.1f} s, server RSS {rounds[-1].rss_mb[2]:.0f} MB")
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
    load = Load([r for one in rounds for r in one.requests], sum(one.wall_s for one in rounds),
                (rounds[0].rss_mb[0], max(one.rss_mb[1] for one in rounds), rounds[-1].rss_mb[2]),
                [p for one in rounds for p in one.problems], [m for one in rounds for m in one.misses])
    rows = summary_rows(load)
    rows.append(["server RSS after each round", " → ".join(f"{one.rss_mb[2]:.0f}" for one in rounds) + " MB"])
    print(table(["measure", f"{args.sessions} sessions x 2 turns x {args.rounds} rounds"], rows))
    for problem in load.problems + load.misses:
        print("  ", problem)
    per = [[str(r.session), str(r.turn), f"{r.latency_s:.2f}", f"{r.queue_wait_s:.2f}", str(r.queue_rank or "-"),
            r.error or ", ".join(sorted({c["title"][:50] for c in r.answer.get("citations", [])}))]
           for r in sorted(rounds[0].requests, key=lambda r: (r.session, r.turn))]
    print("round 1:\n" + table(["session", "turn", "latency s", "queue s", "queue pos", "cited / error"], per))
    if not args.no_record:
        backend = "extractive (real embedder, no LLM)" if args.url is None else f"the app at {args.url}"
        append_section(f"web load, {args.sessions} concurrent sessions", (
            f"`bench/web_load.py`: {args.sessions} gradio_client sessions at once against `/answer`, each a "
            f"question about its own article and the follow-up \"{FOLLOW_UP}\" with its own history, "
            f"{args.rounds} rounds; backend {backend}; store: {args.corpus.name} + seeds; one answer at a time "
            "(`default_concurrency_limit=1`). Queue wait is the latency less the engine's own time for the "
            "answer.\n\n" + markdown_table(["measure", "value"], rows)
            + ("\n\nMisses and failures, over all rounds:\n" if load.problems or load.misses else "")
            + "".join(f"\n- {line}" for line in sorted(set(load.problems + load.misses)))))
        print(f"recorded in {DOC}")
    return 1 if load.problems else 0


if __name__ == "__main__":
    sys.exit(main())
