"""Real servers for the tests: a Chroma server and llama.cpp's OpenAI-compatible server, started
from the installed packages on a free loopback port and stopped (by their own process id) after.

    with ServerProcess.chroma(tmp_path / "chroma") as chroma:
        settings = settings.replace(store_host="127.0.0.1", store_port=chroma.port)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """One server process; ``start`` waits until ``health`` (a path) answers HTTP 200."""

    def __init__(self, argv: list[str], health: str, port: int, log: Path, ready_s: float = 60.0) -> None:
        self.argv, self.health, self.port, self.log, self.ready_s = argv, health, port, log, ready_s
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        with self.log.open("ab") as out:  # (the child keeps its own copy of the descriptor)
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.ready_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv[:3]} exited ({self.process.returncode}): "
                                   f"{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + self.health, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.argv[:3]} not ready in {self.ready_s} s: {self.log.read_text()[-2000:]}")

    def stop(self, kill: bool = False) -> None:
        """Stop the server (``kill``: SIGKILL, as a crash would) and wait until it is gone."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)  # (its own session: its children too)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @classmethod
    def chroma(cls, path: Path, port: int = 0) -> ServerProcess:
        """``chroma run`` from the installed chromadb package, persisting in ``path``."""
        port = port or free_port()
        argv = [str(VENV_BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
        return cls(argv, "/api/v2/heartbeat", port, path.parent / f"chroma-{port}.log")

    @classmethod
    def llama(cls, model: Path, log_dir: Path, *args: str) -> ServerProcess:
        """``python -m llama_cpp.server`` (the llama-cpp-python[server] extra) serving ``model``."""
        port = free_port()
        argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
                "--port", str(port), "--n_threads", str(os.cpu_count() or 2), *args]
        return cls(argv, "/v1/models", port, log_dir / f"llama-{port}.log", ready_s=180.0)
