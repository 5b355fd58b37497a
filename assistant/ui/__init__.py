"""The web chat: a thin Gradio adapter over the ``Engine``; no answering or file logic lives here.

The page streams each answer, links its ``[n]`` markers to a sources panel that shows the
cited passages with the supporting sentences (as the verifier found them) highlighted, keeps
the conversation for follow-ups, exports it as Markdown, and has a Corpus tab to list, upload
and remove articles (through ``ingest.library``). The named endpoint ``/answer`` returns
``Answer.to_dict()`` to ``gradio_client``.

Example:
    from assistant import load_settings
    from assistant.ui import serve
    serve(load_settings(), ingest_paths=["seeds"])   # http://127.0.0.1:7860

Modules: ``render`` (pure HTML/Markdown of answers, citations, source cards), ``chat``
(``WebApp``: a question as a stream of page updates), ``corpus`` (the Corpus tab), ``page``
(the Gradio layout). gradio is imported only inside ``build_demo`` and ``serve``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from .access import Access, access, is_loopback
from .chat import Update, WebApp, engine_history, parse_filters, parse_history
from .corpus import example_questions, source_label
from .page import CSS, HEAD, build_demo
from .render import (
    Turn,
    chat_messages,
    conversation_markdown,
    link_markers,
    passage_context,
    render_answer_html,
    render_panel,
    render_sources_html,
    safe_url,
    status_line,
)

if TYPE_CHECKING:
    from ..chain import Engine


log = logging.getLogger(__name__)
QUEUE_MAX = 64  # waiting requests (page and API together); more are refused with "queue full"


def serve(settings: Settings, ingest_paths: Sequence[str | Path] = (), *, engine: Engine | None = None) -> None:
    """Start the web chat: ingest ``ingest_paths`` into an empty store, launch, and load the models
    behind the page (a question asked meanwhile waits for them and says so).

    Binds ``settings.web_host:web_port`` (127.0.0.1:7860 by default); a public share link only
    with ``web_share``. Off loopback it needs a login or ``web_no_auth`` (``access``), checked
    before anything loads. Serves no files beyond Gradio's own temp dir (no ``allowed_paths``,
    the data dir blocked besides). ``engine`` replaces the one ``settings`` describe (tests
    serve a fake one). Blocks until interrupted.

    Raises:
        ConfigError: the login policy refuses to start (see ``access``).
        ModelNotServedError: the LLM server (``llm.backend = "openai"``) does not serve ``llm.model``.
    """
    granted = access(settings)
    for warning in granted.warnings:
        _say(warning)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from ..chain import Engine

    engine = engine or Engine.from_settings(settings)
    if ingest_paths and engine.store.count()[0] == 0:
        from ingest import ingest

        _say(f"Ingesting {', '.join(map(str, ingest_paths))} into {settings.data_dir} …")
        report = ingest(list(ingest_paths), settings, store=engine.store, embedder=engine.embedder, progress=False)
        _say(report.summary())
    if settings.llm_backend == "openai" and (check := getattr(engine.chat_model, "load", None)):
        check()  # one request to the server's /v1/models: one that does not serve llm.model refuses the start
    # The page comes up at once; the models load behind it, and a question asked meanwhile says so.
    loaded = threading.Event()
    threading.Thread(target=_load_models, args=(engine, loaded), name="load-models", daemon=True).start()
    demo = build_demo(engine, settings, loaded)
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_MAX)
    # run_history off: no answers kept in visitors' browsers, and none of its routes.
    demo.launch(server_name=settings.web_host, server_port=settings.web_port, share=settings.web_share,
                auth=granted.auth, auth_message="Log in to the startup news assistant.",
                show_error=False, max_file_size=int(settings.ingest_max_file_mb * 1e6), ssr_mode=False,
                mcp_server=False, enable_monitoring=False, run_history=False,
                blocked_paths=[str(settings.data_dir.resolve())], footer_links=["api", "gradio"], css=CSS, head=HEAD)


def _load_models(engine: Engine, loaded: threading.Event) -> None:
    _say(f"Loading the models ({engine.model_name}) …")
    started = time.perf_counter()
    try:
        engine.warm_up()
        _say(f"Models ready in {time.perf_counter() - started:.1f} s.")
    except Exception as exc:  # the first question tries again and shows its error
        log.warning("loading the models failed", exc_info=exc)
        _say(f"Loading the models failed ({exc}); the first question will try again.")
    finally:
        loaded.set()


def _say(message: str) -> None:
    """Startup progress on stderr (the logger is quiet by default; Gradio prints its URL there too)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


__all__ = ["Access", "Turn", "Update", "WebApp", "access", "build_demo", "chat_messages", "conversation_markdown",
           "engine_history", "example_questions", "is_loopback", "link_markers", "parse_filters", "parse_history",
           "passage_context", "render_answer_html", "render_panel", "render_sources_html", "safe_url", "serve",
           "source_label", "status_line"]
