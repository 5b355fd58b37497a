"""The Corpus tab: list, search, upload and remove articles, through ``ingest.library``.

It has no file logic of its own: ``ingest.library.add_files`` copies and ingests uploads,
``ingest.library.remove_article`` deletes an article and its uploaded file. It also makes the
chat's example questions from the corpus's funding headlines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import AssistantError, ConfigError
from .render import esc, safe_url

if TYPE_CHECKING:
    import gradio as gr

    from ..chain import Engine
    from ..config import Settings
    from ..documents import ArticleInfo

_FUNDING_TITLE = re.compile(
    r"^(?:[^:]{0,30}:\s*)?(?P<name>[A-Z0-9][\w.&'’-]*(?:\s+[A-Z0-9][\w.&'’-]*){0,3})\s+"
    r"(?i:raises|raised|secures|closes|lands|gets|nabs|bags|snags|collects)\b")


def example_questions(titles: Sequence[str], limit: int = 4) -> list[str]:
    """Questions the corpus can answer, made from its funding headlines ("X Raises $N ...")."""
    questions: list[str] = []
    for title in titles:
        match = _FUNDING_TITLE.match(title.strip())
        if not match:
            continue
        name = match.group("name")
        for question in (f"How much did {name} raise?", f"Who invested in {name}?"):
            if question not in questions:
                questions.append(question)
        if len(questions) >= limit:
            break
    if not questions and titles:
        questions = [f"What does the article “{t}” report?" for t in titles[:2]]
    return questions[:limit]


def source_label(info: ArticleInfo) -> str:
    """How the corpus table shows where an article came from."""
    if info.publisher:
        return info.publisher
    link = safe_url(info.url)
    if link:
        return urlsplit(link).netloc
    return Path(info.source).name if "/" in info.source else info.source


class CorpusActions:
    """The Corpus tab's actions over ``self.engine``'s store (mixed into ``WebApp``)."""

    engine: Engine
    settings: Settings

    @property
    def uploads_dir(self) -> Path:
        from ingest.library import uploads_dir

        return uploads_dir(self.settings)

    def corpus_summary(self) -> str:
        articles, chunks = self.engine.store.count()
        if not articles:
            return "**The store is empty.** Upload articles below (or run `assistant ingest seeds/`)."
        return f"**{articles} article(s)**, {chunks} passages indexed."

    def articles(self, match: str = "", limit: int = 500) -> list[ArticleInfo]:
        return self.engine.store.list_articles((match or "").strip(), limit=limit)

    def example_questions(self) -> list[str]:
        return example_questions([a.title for a in self.engine.store.list_articles(limit=50)])

    def add_files(self, paths: Sequence[str], progress: Callable[[float, str], None] | None = None,
                  ) -> tuple[list[tuple[str, str]], str]:
        """Ingest uploaded files (kept under ``<data_dir>/uploads``): ``(file name, result)`` per
        file and the run's summary line."""
        from ingest.library import add_files

        added = add_files(paths, self.settings, store=self.engine.store, embedder=self.engine.embedder,
                          progress=progress)
        return added.results, added.summary

    def remove(self, article_id: str) -> str:
        """Delete an article (and its uploaded file when nothing else uses it); say what happened."""
        from ingest.library import remove_article

        info = remove_article(article_id, self.settings, store=self.engine.store) if article_id else None
        if info is None:
            raise ConfigError("choose an article to remove first")
        return f"Removed “{info.title}”."


def corpus_tab(demo: gr.Blocks, app: CorpusActions, examples: gr.Dataset) -> None:
    """The Corpus tab's components and events, inside ``demo``; it also keeps the chat's
    ``examples`` in step with the corpus."""
    import gradio as gr

    from ingest.library import SUPPORTED_UPLOADS

    private = {"api_visibility": "private"}

    def corpus_view(match: str) -> tuple[Any, ...]:
        infos = app.articles(match)
        questions = app.example_questions()
        rows = [[a.title, a.date, source_label(a), a.n_chunks] for a in infos]
        choices = [(f"{a.title} ({a.date})" if a.date else a.title, a.id) for a in infos]
        return (app.corpus_summary(), rows, gr.update(choices=choices, value=None),
                gr.update(samples=[[q] for q in questions], visible=bool(questions)))

    def select_row(match: str, evt: gr.SelectData) -> Any:
        row = evt.row_value or []
        for a in app.articles(match):
            if row and a.title == row[0] and a.date == row[1]:
                return gr.update(value=a.id)
        return gr.skip()

    # Annotations are strings here (PEP 563); Gradio needs the class itself to pass the event data.
    select_row.__annotations__["evt"] = gr.SelectData

    def add_files(files: list[str] | None, match: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        if not files:
            gr.Warning("Choose one or more files to upload first.")
            return (gr.skip(),) * 5
        try:
            results, summary = app.add_files(files, lambda f, desc: progress(f, desc=desc))
        except AssistantError as exc:
            gr.Warning(str(exc))
            return (f"⚠ {esc(str(exc))}",) + (gr.skip(),) * 4
        rejected = [name for name, result in results if result != "ok"]
        if rejected:
            gr.Warning(f"Not ingested: {', '.join(rejected)} (see the results below the upload).")
        lines = [f"**{summary}**", "", "| File | Result |", "|---|---|"]
        lines += [f"| {esc(name)} | {esc(result)} |" for name, result in results]
        return ("\n".join(lines), *corpus_view(match))

    def remove(article_id: str | None, match: str) -> tuple[Any, ...]:
        try:
            message = app.remove(article_id or "")
        except AssistantError as exc:
            gr.Warning(str(exc))
            return (gr.skip(),) * 5
        gr.Info(message)
        return (message, *corpus_view(match))

    with gr.Tab("Corpus"):
        summary = gr.Markdown(app.corpus_summary())
        search = gr.Textbox(label="Search titles", placeholder="e.g. SenseTime")
        table = gr.Dataframe(headers=["Title", "Date", "Source", "Chunks"],
                             datatype=["str", "str", "str", "number"], interactive=False, wrap=True,
                             column_widths=["55%", "12%", "23%", "10%"], elem_id="articles")
        with gr.Row():
            chosen = gr.Dropdown(label="Article to remove (or click its row)", choices=[], scale=4,
                                 elem_id="remove-choice")
            drop = gr.Button("Remove article", variant="stop", scale=1, elem_id="remove")
        limits = f"up to {app.settings.ingest_max_upload_files} files of {app.settings.ingest_max_file_mb:g} MB"
        upload = gr.File(label=f"Upload articles ({' '.join(SUPPORTED_UPLOADS)}; {limits})", file_count="multiple",
                         file_types=list(SUPPORTED_UPLOADS), elem_id="upload")
        add = gr.Button("Ingest uploaded files", variant="primary", elem_id="ingest")
        results = gr.Markdown("", elem_id="ingest-results")

    outputs = [summary, table, chosen, examples]
    search.change(corpus_view, search, outputs, show_progress="hidden", **private)
    table.select(select_row, search, chosen, queue=False, **private)
    # Ingest and remove share the one "engine" concurrency group with answering: one writer at a time.
    add.click(add_files, [upload, search], [results, *outputs], concurrency_id="engine", **private).then(
        lambda: None, None, upload, queue=False, **private)
    drop.click(remove, [chosen, search], [results, *outputs], concurrency_id="engine", **private)
    demo.load(corpus_view, search, outputs, **private)
