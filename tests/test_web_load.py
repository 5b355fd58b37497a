"""Concurrent chat sessions against the real web app keep to themselves (slow: a fake-engine
server, extractive answers). ``bench/web_load.py`` is the full-size, timed version."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from web_helpers import COMPANIES, REPO, running_server, write_company_articles

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.web_load import Target, run_load, summary_rows


@pytest.mark.slow
def test_sixteen_concurrent_sessions_complete_without_errors_or_leaks(tmp_path: Path) -> None:
    articles = write_company_articles(tmp_path / "articles")
    targets = [Target(name, (articles / f"company{i}.txt").read_text().split("\n", 1)[0])
               for i, (name, *_) in enumerate(COMPANIES)]
    with running_server(tmp_path, ["--ingest", str(articles)]) as (url, proc):
        load = run_load(url, targets, timeout_s=300, server_pid=proc.pid)
    assert len(targets) == 16
    assert load.problems == [] and load.misses == []
    assert len(load.requests) == 2 * len(targets) and not any(r.error for r in load.requests)
    for r in load.requests:  # the follow-up found its own round's lead investor
        if r.turn == 2:
            assert COMPANIES[r.session][1] in r.answer["answer"], (r.session, r.answer["answer"])
    for measure, value in summary_rows(load):
        print(f"{measure}: {value}")
