"""The Gradio page: the Chat tab's layout and events, the Corpus tab, the ``/answer`` endpoint.

gradio is imported only inside ``build_demo``. The chat follows Gradio's own Blocks chatbot
pattern: an unqueued step shows the question at once, then one queued generator streams the
answer into the ``gr.Chatbot`` (and the sources panel, status, state and export beside it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import AssistantError
from .chat import Update, WebApp
from .corpus import corpus_tab
from .render import EMPTY_PANEL, TITLE, Turn, chat_messages, user_message
from .startups import startups_tab

if TYPE_CHECKING:
    import gradio as gr

    from ..chain import Engine
    from ..config import Settings

MAX_K = 10

CSS = """
#sources { max-height: 78vh; overflow-y: auto; padding-right: 4px; }
#sources .src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin: 0 0 10px 0; background: var(--block-background-fill); transition: box-shadow .3s, border-color .3s; }
#sources .src.active { border-color: #f59e0b; box-shadow: 0 0 0 3px rgba(245, 158, 11, .35); }
#sources .src-head { display: flex; gap: 8px; align-items: baseline; font-weight: 600; }
#sources .src-n { flex: none; min-width: 1.6em; text-align: center; border-radius: 999px; font-size: .8em;
  background: var(--color-accent-soft); color: var(--body-text-color); padding: 0 6px; }
#sources .src-meta { font-size: .82em; color: var(--body-text-color-subdued); margin: 2px 0 6px 0;
  word-break: break-all; }
#sources .src-passage { white-space: pre-wrap; font-size: .9em; line-height: 1.45; border-left: 3px solid
  var(--border-color-primary); padding-left: 8px; }
#sources .ctx { color: var(--body-text-color-subdued); }
#sources mark, #chat mark { background: #fde68a; color: #1f2937; border-radius: 2px; padding: 0 1px; }
#sources .turn-q { font-weight: 600; margin: 0 0 8px 0; }
#sources details.turn { margin: 8px 0; }
#sources details.turn summary { cursor: pointer; color: var(--body-text-color-subdued); }
#sources .src-note, #sources .src-empty { color: var(--body-text-color-subdued); margin: 4px 0 10px 0; }
#chat a.cite { text-decoration: none; font-weight: 600; font-size: .85em; vertical-align: super;
  padding: 0 1px; color: var(--color-accent); }
#chat .notice { color: #b45309; font-size: .9em; }
#chat .hint { color: var(--body-text-color-subdued); font-size: .9em; }
"""

# Clicking a [n] marker opens and highlights its source card instead of following the link.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#src-"]');
    if (!link) return;
    const card = document.getElementById(link.getAttribute('href').slice(1));
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    for (let node = card; node; node = node.parentElement) { if (node.tagName === 'DETAILS') node.open = true; }
    document.querySelectorAll('#sources .src.active').forEach((el) => el.classList.remove('active'));
    card.classList.add('active');
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  }, true);
}
"""
# Run from the page's <head>: Gradio 6.26 (the pinned range's newest without advisories) does
# not run launch(js=...); a head script runs on every release.
HEAD = f"<script>({JS.strip()})();</script>"


def build_demo(engine: Engine, settings: Settings, loaded: threading.Event | None = None) -> gr.Blocks:
    """The page: a Chat tab (chat, sources panel, settings, export) and a Corpus tab. ``loaded``: see
    ``WebApp``."""
    import gradio as gr

    app = WebApp(engine, settings, loaded)
    private = {"api_visibility": "private"}

    def outputs_of(update: Update) -> tuple[Any, ...]:
        if update.warning:
            gr.Warning(update.warning)
        skip = gr.skip()
        return (skip if update.messages is None else update.messages,
                skip if update.panel is None else update.panel,
                skip if update.status is None else update.status,
                skip if update.turns is None else update.turns,
                skip if update.export is None else gr.update(value=update.export, interactive=True))

    def respond(question: str, turns: list[Turn], k: float, since: str, until: str,
                backend: str) -> Iterator[tuple[Any, ...]]:
        for update in app.respond(question, turns, k, since, until, backend):
            yield outputs_of(update)

    def start(question: str, turns: list[Turn]) -> tuple[Any, ...]:
        question = (question or "").strip()
        if not question:
            return gr.skip(), gr.skip(), ""
        return "", chat_messages(turns) + [user_message(question)], question

    def new_chat() -> tuple[Any, ...]:
        return [], [], EMPTY_PANEL, "", gr.update(value=None, interactive=False), ""

    def start_example(sample: Any, turns: list[Turn]) -> tuple[Any, ...]:
        return start(sample[0] if isinstance(sample, list) else str(sample), turns)

    def answer(question: str, history_json: str = "[]") -> dict:
        """Answer a question from the articles; history_json holds earlier turns as
        [{"role": "user"|"assistant", "content": "..."}]. Returns Answer.to_dict()."""
        try:
            return app.answer_json(question, history_json)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None

    answer.__annotations__.update(question=str, history_json=str, **{"return": dict})

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.Markdown(f"## {TITLE}\nAsk about AI startups and their funding. Answers come only from the "
                    "articles in the corpus and cite them: click a **[n]** to see the passage.")
        turns_state = gr.State([])
        pending = gr.State("")
        with gr.Tab("Chat"), gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=480, latex_delimiters=[],
                                     feedback_options=None, buttons=["copy"], autoscroll=True,
                                     placeholder="Ask a question below, or pick an example.")
                with gr.Row():
                    question = gr.Textbox(show_label=False, placeholder="e.g. How much did SenseTime raise?",
                                          scale=8, elem_id="question", autofocus=True, max_length=2000)
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                status = gr.Markdown("", elem_id="status")
                examples = gr.Dataset(components=[question], samples=[], label="Examples", elem_id="examples")
                with gr.Row():
                    new = gr.Button("New chat", size="sm", elem_id="new-chat")
                    export = gr.DownloadButton("Export as Markdown", value=None, size="sm", interactive=False,
                                               elem_id="export")
                with gr.Accordion("Settings (this session only)", open=False):
                    k = gr.Slider(1, MAX_K, value=min(settings.retrieval_k, MAX_K), step=1,
                                  label="Passages given to the model")
                    with gr.Row():
                        since = gr.Textbox(label="Articles since", placeholder="YYYY-MM-DD")
                        until = gr.Textbox(label="Articles until", placeholder="YYYY-MM-DD")
                    backend = gr.Radio(app.backends(), value=settings.llm_backend, label="LLM backend",
                                       info="extractive: no LLM, quotes the best-supported sentences")
                    model = gr.Markdown(app.model_markdown(settings.llm_backend))
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(EMPTY_PANEL, elem_id="sources", js_on_load=None)
        startups_tab(engine.store)
        corpus_tab(demo, app, examples)

        # Show the question at once (unqueued), then answer in the queue: one generation at a time,
        # and the chat shows a waiting visitor their place in the queue.
        outputs = [chatbot, sources, status, turns_state, export]
        for trigger, first, inputs in ((question.submit, start, question), (ask.click, start, question),
                                       (examples.click, start_example, examples)):
            trigger(first, [inputs, turns_state], [question, chatbot, pending], queue=False, **private).then(
                respond, [pending, turns_state, k, since, until, backend], outputs, concurrency_id="engine",
                show_progress="full", show_progress_on=chatbot, **private)
        for trigger in (new.click, chatbot.clear):  # the chat's own trash button starts over too
            trigger(new_chat, None, [turns_state, chatbot, sources, status, export, question], queue=False, **private)
        backend.change(app.model_markdown, backend, model, **private)

        gr.api(answer, api_name="answer", concurrency_id="engine")
    return demo
