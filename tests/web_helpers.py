"""Start the web app in a subprocess for the slow web tests, and the articles they ask about."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 240
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Fictional companies, one article each: a session asks about one and must see only its own (16: the
# concurrent sessions of the load test).
COMPANIES = [("Zorblax Robotics", "Quux Capital", "$42 million", "warehouse robots"),
             ("Plimsoll Genomics", "Frobnitz Partners", "$17 million", "gene sequencing"),
             ("Vantablur Labs", "Ostrander Ventures", "$8.5 million", "camera sensors"),
             ("Kestrel Ledger", "Marrowby Fund", "$63 million", "payments software"),
             ("Drumlin Health", "Yarrow Point Capital", "$21 million", "clinic scheduling"),
             ("Sableworks AI", "Tindal Growth", "$5 million", "speech models"),
             ("Quillfern Energy", "Harrowgate Capital", "$34 million", "grid batteries"),
             ("Brindlecode", "Pellucid Ventures", "$12 million", "code review tools"),
             ("Mossgiel Foods", "Corvant Partners", "$9 million", "plant proteins"),
             ("Tessellate Freight", "Wyvern Hill Fund", "$51 million", "freight routing"),
             ("Orrery Space", "Lanternfish Capital", "$76 million", "small satellites"),
             ("Glimmerpath Learning", "Bracken Ventures", "$6 million", "tutoring apps"),
             ("Halyard Security", "Ninefold Growth", "$28 million", "network monitoring"),
             ("Cobblestone Homes", "Ferrule Partners", "$15 million", "modular housing"),
             ("Pemberly Audio", "Skerry Capital", "$3 million", "hearing aids"),
             ("Nettlefield Bio", "Osprey Bank Ventures", "$44 million", "crop genetics")]


def write_company_articles(folder: Path) -> Path:
    """One .txt article per company in ``COMPANIES``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, investor, amount, what) in enumerate(COMPANIES):
        title = f"{name} Raises {amount.replace(' million', 'M')} For {what.title()}"
        (folder / f"company{i}.txt").write_text(
            f"{title}\n\n{3 + i} March 2024\n\n{name}, a startup that makes {what}, has raised {amount} in a "
            f"Series A round led by {investor}. The company will use the money to hire engineers and expand sales.\n")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(root: Path, args: Sequence[str] = (), *, env: Mapping[str, str] | None = None,
                   command: Sequence[str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``tests/fake_server.py --data-dir root/data --port P *args`` (or ``command`` given the same
    two options) until the page answers; yields its URL and process, and stops it after."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    full_env.update(GRADIO_TEMP_DIR=str(root / "gradio"), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1",
                    GRADIO_ANALYTICS_ENABLED="False", **(env or {}))
    base = list(command or [sys.executable, str(REPO / "tests" / "fake_server.py")])
    log_path = root / f"server-{port}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([*base, "--data-dir", str(root / "data"), "--port", str(port), *args], cwd=REPO,
                                env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.HTTPError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer within {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
