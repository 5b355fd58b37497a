"""Serve the real web app (``assistant.ui.serve``, login policy and all) over a fake engine.

For the slow web tests: no model loads, so it starts in seconds. ``FakeEmbedder`` always;
with ``--reply`` a ``FakeChatModel`` that always answers that text, else extractive answers.

    python tests/fake_server.py --data-dir D --port P --ingest seeds [--reply TEXT]
                                [--host H] [--auth-user U] [--no-auth] [--max-file-mb N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ingest", nargs="*", type=Path, default=[])
    parser.add_argument("--reply", help="what the fake LLM answers (default: extractive answers, no LLM)")
    parser.add_argument("--auth-user")
    parser.add_argument("--no-auth", action="store_true", default=None)
    parser.add_argument("--max-file-mb", type=float)
    args = parser.parse_args(argv)

    from assistant.config import load_settings
    from assistant.errors import AssistantError
    from assistant.testing import FakeChatModel, fake_engine
    from assistant.ui import serve

    try:
        settings = load_settings(data_dir=args.data_dir, web_port=args.port, web_host=args.host,
                                 web_auth_user=args.auth_user, web_no_auth=args.no_auth,
                                 ingest_max_file_mb=args.max_file_mb,
                                 llm_backend="embedded" if args.reply else "extractive")
        chat = FakeChatModel(replies=[args.reply]) if args.reply else None
        engine = fake_engine(args.ingest, settings=settings, chat=chat)
        serve(settings, engine=engine)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
