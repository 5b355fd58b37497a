"""The ``assistant`` command: each subcommand parses arguments, calls the library, prints.

Examples:
    assistant ingest seeds/ ../shared/corpora/vb-startup-funding/articles.jsonl
    assistant ask "Who invested in SenseTime?"
    assistant ask "How much did Graphcore raise?" --json --since 2020-01-01
    assistant facts --company SenseTime --json
    assistant facts --kind round --since 2021 --min-amount 100m --sort amount
    assistant chat
    assistant serve --port 7860
    ASSISTANT_WEB_AUTH_USER=me WEB_CHAT_PASSWORD=... assistant serve --host 0.0.0.0
    assistant eval tests/data/qa_dev.jsonl --corpus seeds ../shared/corpora/vb-startup-funding/articles.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import BACKENDS, Settings, load_settings, parse_bool
from .documents import Answer
from .errors import AssistantError
from .events import KINDS


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from .logs import setup_logging

    setup_logging(args.verbose)
    try:
        settings = load_settings(args.config, data_dir=args.data_dir, llm_backend=getattr(args, "backend", None))
        return int(args.run(args, settings) or 0)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        return 130


def _global_options(parser: argparse.ArgumentParser, default: Any = None) -> None:
    parser.add_argument("--data-dir", default=default,
                        help="where the store lives (default: $ASSISTANT_DATA_DIR or ./data)")
    parser.add_argument("--config", default=default, help="a TOML settings file (default: $ASSISTANT_CONFIG)")
    parser.add_argument("-v", "--verbose", action="count", default=default or 0, help="log more (-vv for debug)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _global_options(parser)
    # The same options after the subcommand ("assistant ingest seeds/ --data-dir D"), where most people
    # type them; SUPPRESS keeps a subcommand that doesn't repeat them from resetting the ones given before it.
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    p = commands.add_parser("ingest", parents=[common], help="add, update (and with --prune remove) articles")
    p.add_argument("paths", nargs="+", type=Path, help="files (.txt .md .html .pdf .json .jsonl) or directories")
    p.add_argument("--prune", action="store_true", help="remove articles whose files are gone")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, help="processes that read, chunk and embed (default: ingest.workers, 1)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="follow symbolic links inside a directory that point outside it (default: report them)")
    p.set_defaults(run=_ingest)

    for name, run, help_text in (("ask", _ask, "answer one question"),
                                 ("chat", _chat, "a conversation in the terminal")):
        p = commands.add_parser(name, parents=[common], help=help_text)
        if name == "ask":
            p.add_argument("question")
            p.add_argument("--json", action="store_true", help="print the answer as JSON")
        p.add_argument("--k", type=int, help="passages to give the model")
        p.add_argument("--since", help="only articles dated on or after YYYY-MM-DD")
        p.add_argument("--until", help="only articles dated on or before YYYY-MM-DD")
        p.add_argument("--match", help="only articles whose title or source contains this")
        p.add_argument("--backend", choices=BACKENDS, help="override llm.backend")
        p.set_defaults(run=run)

    p = commands.add_parser("serve", parents=[common], help="the web chat")
    p.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument("--share", type=_flag, help="create a public Gradio share link (default false)")
    p.add_argument("--no-auth", action="store_true", default=None,
                   help="serve without a login even off 127.0.0.1 (otherwise web.auth_user and its password "
                        "are required there)")
    p.add_argument("--ingest", nargs="*", type=Path, default=[], help="ingest these first when the store is empty")
    p.add_argument("--backend", choices=BACKENDS, help="override llm.backend")
    p.set_defaults(run=_serve)

    p = commands.add_parser("articles", parents=[common], help="list the articles in the store")
    p.add_argument("--match", default="", help="only titles or sources containing this")
    p.set_defaults(run=_articles)

    p = commands.add_parser("facts", parents=[common],
                            help="the table of funding rounds, acquisitions, IPOs, layoffs and funding totals "
                                 "read from the articles")
    p.add_argument("--company", default="", help="a company raising, listing or laying off; an acquirer or target")
    p.add_argument("--investor", default="", help="a lead or other investor")
    p.add_argument("--kind", choices=KINDS, default="", help="total: what a company has raised in all")
    p.add_argument("--since", default="", help="on or after YYYY[-MM[-DD]]")
    p.add_argument("--until", default="", help="on or before YYYY[-MM[-DD]]")
    p.add_argument("--min-amount", type=_amount, help="at least this much, e.g. 100000000 or 100m or 1.5b")
    p.add_argument("--about", default="", help="only articles whose text has these words (e.g. robotics)")
    p.add_argument("--all-mentions", action="store_true",
                   help="also earlier rounds and deals mentioned in passing (default: what articles report)")
    p.add_argument("--sort", choices=("date", "amount"), default="date")
    p.add_argument("--limit", type=int, default=0)
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="JSON records, each field with its span and sources")
    output.add_argument("--csv", action="store_true", help="CSV, one row per fact")
    p.set_defaults(run=_facts)

    p = commands.add_parser("eval", parents=[common],
                            help="measure accuracy, abstention, citations and latency on a QA file")
    from .eval import add_arguments

    add_arguments(p)
    p.set_defaults(run=_eval)
    return parser


def _flag(value: str) -> bool:
    try:
        return parse_bool(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected true or false, not {value!r}") from None


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest import ingest

    if args.workers is not None:
        settings = settings.replace(ingest_workers=args.workers)
    report = ingest(args.paths, settings, prune=args.prune, progress=False if args.no_progress else None,
                    follow_links=args.follow_symlinks)
    print(report.summary())  # noqa: T201
    return 0 if report.ok else 1


def _filters(args: argparse.Namespace) -> dict[str, str] | None:
    filters = {k: getattr(args, k) for k in ("since", "until", "match") if getattr(args, k, None)}
    return filters or None


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from .chain import default_engine

    engine = default_engine(settings)
    engine.load_model_in_background()
    if args.json:
        result = engine.answer(args.question, filters=_filters(args), k=args.k)
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))  # noqa: T201
        return 0
    _print_stream(engine.stream(args.question, filters=_filters(args), k=args.k))
    return 0


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from .chain import default_engine

    engine = default_engine(settings)
    engine.load_model_in_background()
    history: list[dict[str, str]] = []
    print("Ask about the articles. An empty line or Ctrl-D ends the chat; /new starts over.")  # noqa: T201
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        if question == "/new":
            history.clear()
            continue
        print("assistant> ", end="", flush=True)  # noqa: T201
        final = _print_stream(engine.stream(question, history, filters=_filters(args), k=args.k))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": final.text}]


def _print_stream(events: Any) -> Answer:
    """Print deltas as they come, then the verified answer if it differs, then the sources."""
    from .chain import SecondLook

    streamed, final = "", None
    for event in events:
        if isinstance(event, str):
            streamed += event
            print(event, end="", flush=True)  # noqa: T201
        elif isinstance(event, SecondLook):
            streamed = ""
            print(f"\n({event.message})", file=sys.stderr, flush=True)  # noqa: T201
        elif isinstance(event, Answer):
            final = event
    assert final is not None
    if final.text.strip() != streamed.strip():
        print(("\n\n" if streamed else "") + final.text)  # noqa: T201
    else:
        print()  # noqa: T201
    print(format_sources_text(final))  # noqa: T201
    return final


def format_sources_text(final: Answer) -> str:
    lines = []
    if final.notice:
        lines.append(f"note: {final.notice}")
    for c in final.citations:
        date = f", {c.date}" if c.date else ""
        lines.append(f"[{c.n}] {c.title}{date} — {c.url or c.source}")
    if final.abstained and final.suggestions:
        lines.append("Closest articles:")
        lines += [f"  - {p.title}{', ' + p.date if p.date else ''} — {p.url or p.source}" for p in final.suggestions]
    return "\n".join(lines)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from .ui import serve

    settings = settings.replace(**{k: v for k, v in (("web_host", args.host), ("web_port", args.port),
                                                    ("web_share", args.share), ("web_no_auth", args.no_auth))
                                   if v is not None})
    serve(settings, ingest_paths=args.ingest)
    return 0


def _articles(args: argparse.Namespace, settings: Settings) -> int:
    from .store import Store

    store = Store(settings.data_dir, collection=settings.store_collection)
    for info in store.list_articles(args.match):
        print(f"{info.date or '----------'}  {info.n_chunks:3d} chunks  {info.title}  ({info.source})")  # noqa: T201
    return 0


def _amount(value: str) -> float:
    from .text import SCALE

    number, scale = value.lower().rstrip("$"), 1.0
    if number[-1:] in "kmbt" and number[:-1]:
        number, scale = number[:-1], SCALE[number[-1]]
    try:
        return float(number.lstrip("$").replace(",", "")) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount such as 5000000, 5m or 1.5b, not {value!r}") from None


def _facts(args: argparse.Namespace, settings: Settings) -> int:
    from .facttable import FactQuery, find_facts, print_facts
    from .store import Store

    store = Store(settings.data_dir, collection=settings.store_collection)
    query = FactQuery(company=args.company, investor=args.investor, kind=args.kind, since=args.since,
                      until=args.until, min_amount=args.min_amount, topic=args.about,
                      subject_only=not args.all_mentions)
    found = find_facts(store, query, order=args.sort, limit=args.limit)
    print_facts(found, "json" if args.json else "csv" if args.csv else "table", sys.stdout)
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from .eval import run_from_args

    return run_from_args(args, settings)


if __name__ == "__main__":
    sys.exit(main())
