"""The answer engine: condense follow-up -> retrieve -> prompt -> LLM -> parse -> verify.

Retrieval is a LangChain retriever; ``generation.Writer`` streams the chat model on the prompt
with its faults handled (bounded waits and length, the extractive fallback, a prompt that fits
the window, no links out). ``stream()`` runs the steps in order and yields as it goes: a
``Retrieved`` event as soon as the passages are known, text deltas, then the ``Answer``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .documents import Answer, Filters, Passage, Timings
from .errors import IndexNotFoundError
from .generation import Limits, Turn, Writer, check_reply
from .prompting import DECLINE, SYSTEM_PROMPT, best_windows, fit_passages, sentence_score
from .query import MAX_QUESTION_CHARS, Question, clean_question, read_question, standalone_question
from .retrieval import HybridRetriever, keyword_overlap, mentions, missing_names
from .sanitize import strip_links
from .table_answers import answer_aggregate
from .text import amounts_in, format_amount, split_sentences
from .verify import Checked, check_answer, conflicting_figures

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .config import Settings
    from .protocols import Embedder
    from .store import Store

log = logging.getLogger(__name__)

NOT_FOUND = "I couldn't find the answer in the articles."
EMPTY_QUESTION = "Please ask a question about the articles."
SECOND_LOOK = "Taking a second look at the best sentences of the top article…"
# A comparison by size: the composed answer then computes the difference.
_MORE = re.compile(r"\b(more|most|less|least|bigger|biggest|larger|largest|higher|smaller|fewer)\b", re.I)
# A comparison by date ("which was announced first?"): the members' first reports are compared in code.
_FIRST = re.compile(r"\b(first|earlier|earliest|sooner)\b", re.I)
_LATER = re.compile(r"\b(later|latest|newer|newest|more recent|most recent)\b", re.I)
# A named funding round: "Series B", "series-b", "Series A-2", "seed", "pre-seed".
_ROUND = re.compile(r"\b(pre-?seed|seed|series[\s-]?[a-z](?:-?\d)?)\b(?!-)", re.IGNORECASE)


@dataclass(frozen=True)
class Retrieved:
    """First event of a stream: the passages the answer will draw on."""

    standalone_question: str
    passages: list[Passage]
    retrieve_s: float


@dataclass(frozen=True)
class SecondLook:
    """The first reply found nothing; the answer is being written again from more of the article.
    Text deltas after this event replace those before it."""

    message: str = SECOND_LOOK


Event = Retrieved | SecondLook | str | Answer


class Engine:
    """Answers questions from the store.

    Example:
        engine = Engine.from_settings(load_settings())
        engine.answer("How much did SenseTime raise?").text
    """

    def __init__(self, store: Store, embedder: Embedder, chat_model: BaseChatModel | None, *, model_name: str,
                 k: int = 4, candidates: int = 40, per_article: int = 2, rrf_k: int = 60,
                 min_similarity: float = 0.35, context_chars: int = 3000, second_look_chars: int = 700,
                 limits: Limits | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.chat_model = chat_model
        self.model_name = model_name
        self.min_similarity = min_similarity
        self.context_chars = context_chars
        self.second_look_chars = second_look_chars
        self.retriever = HybridRetriever(store=store, embedder=embedder, k=k, candidates=candidates,
                                         per_article=per_article, rrf_k=rrf_k)
        self.writer = Writer(chat_model, model_name, limits or Limits())

    @classmethod
    def from_settings(cls, settings: Settings, *, store: Store | None = None, embedder: Embedder | None = None,
                      chat_model: BaseChatModel | None | str = "auto") -> Engine:
        """Open the store and models that ``settings`` name (the LLM loads on first use)."""
        from .backends import chat_model_name, make_chat_model, make_embedder
        from .store import Store

        embedder = embedder or make_embedder(settings)
        store = store or Store.from_settings(settings, embedder=embedder)
        if chat_model == "auto":
            model, name = make_chat_model(settings, system_prompt=SYSTEM_PROMPT), chat_model_name(settings)
        else:
            model, name = chat_model, getattr(chat_model, "_llm_type", "extractive")
        return cls(store, embedder, model, model_name=name, k=settings.retrieval_k,
                   candidates=settings.retrieval_candidates,
                   per_article=settings.retrieval_per_article, rrf_k=settings.retrieval_rrf_k,
                   min_similarity=settings.retrieval_min_similarity, context_chars=settings.retrieval_context_chars,
                   second_look_chars=settings.retrieval_second_look_chars, limits=Limits.from_settings(settings))

    def warm_up(self) -> None:
        """Load the models now rather than on the first question."""
        self.embedder.embed_query("warm up")
        if self.store.count()[0]:
            self.retriever.search("warm up", k=1)  # loads the embedder, opens Chroma and SQLite pages
        load = getattr(self.chat_model, "load", None)
        if load:
            load()

    def load_model_in_background(self) -> threading.Thread | None:
        """Start loading the LLM now, on a thread, so that it overlaps reading the question and
        retrieving; the first generation waits for it. A failure here is left for that generation
        to raise (loading is retried there)."""
        load = getattr(self.chat_model, "load", None)
        if load is None or not self.store.count()[0]:  # (no articles: nothing will be generated)
            return None

        def run() -> None:
            try:
                load()
            except Exception as exc:  # raised again, with its message, by the generation that needs it
                log.info("background model load failed", extra={"error": str(exc)})

        thread = threading.Thread(target=run, name="load-llm", daemon=True)
        thread.start()
        return thread

    # -- public -----------------------------------------------------------------------------

    def retrieve(self, question: str, k: int | None = None, filters: Filters | dict[str, str] | None = None,
                 ) -> list[Passage]:
        """Ranked passages with metadata and scores; no LLM."""
        self._require_articles()
        return self.retriever.search(question, k=k, filters=Filters.of(filters))

    def answer(self, question: str, history: Sequence[dict[str, str]] | None = None,
               filters: Filters | dict[str, str] | None = None, k: int | None = None) -> Answer:
        """Answer ``question`` (a follow-up when ``history`` is given); see ``stream``."""
        final = None
        for event in self.stream(question, history, filters, k):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def read(self, question: str, history: Sequence[dict[str, str]] | None = None) -> Question:
        """The question record of ``question`` as a standalone question (names from the corpus)."""
        lexicon = self.store.lexicon()
        return read_question(standalone_question(question, history, lexicon.find), lexicon)

    def stream(self, question: str, history: Sequence[dict[str, str]] | None = None,
               filters: Filters | dict[str, str] | None = None, k: int | None = None) -> Iterator[Event]:
        """Yield a ``Retrieved`` event, then text deltas (a ``SecondLook`` event restarts them), then
        the verified ``Answer``.

        The question is read without control characters or ``[n]`` markers, on one line, and cut
        at ``MAX_QUESTION_CHARS`` (with a notice); an empty one gets ``EMPTY_QUESTION``. The
        answer's text holds no image, HTML or link other than its cited articles' own URLs.
        """
        text, cut = clean_question(question)
        notice = f"Your question was cut to its first {MAX_QUESTION_CHARS:,} characters." if cut else ""
        if not text:
            yield Retrieved("", [], 0.0)
            yield Answer(text=EMPTY_QUESTION, citations=[], abstained=True, standalone_question="",
                         model=self.model_name)
            return
        started = time.perf_counter()
        self._require_articles()
        asked = self.read(text, history)
        # A name matched despite a typo is said, so a near-miss ("Vio Robotics" for Veo Robotics) shows.
        spelling = "; ".join(f"“{e.said}” as {e.name}" for e in asked.entities if not e.exact)
        notices = [notice, f"Read {spelling}, as the articles write it." if spelling else ""]
        for event in self._stream(asked, filters, k, started):
            if isinstance(event, Answer):
                event = replace(event, text=strip_links(event.text, [c.url for c in event.citations if c.url]),
                                notice=" ".join(n for n in (*notices, event.notice) if n))
            yield event

    def _stream(self, asked: Question, filters: Filters | dict[str, str] | None, k: int | None,
                started: float) -> Iterator[Event]:
        table = answer_aggregate(self.store, asked) if not filters else None
        if table is not None:  # a list, rank, sum, count or "both": from the fact table, no LLM
            yield Retrieved(asked.text, table.passages, time.perf_counter() - started)
            yield table.text
            elapsed = time.perf_counter() - started
            yield Answer(text=table.text, citations=table.citations, abstained=table.declined,
                         standalone_question=asked.text,
                         timings=Timings(elapsed, elapsed, elapsed), model="fact table")
            return
        passages = self.retriever.search(asked, k=k, filters=Filters.of(filters))
        retrieve_s = time.perf_counter() - started
        yield Retrieved(asked.text, passages, retrieve_s)

        if self._unanswerable(asked, passages):
            yield self._abstain(asked.text, passages, Timings(retrieve_s, 0.0, time.perf_counter() - started))
            return
        turn = Turn(started)
        if asked.members or asked.parts:
            checked, model, notice = yield from self._compare(asked, filters, turn)
        else:
            checked, model, notice = yield from self._answer_one(asked, passages, turn)
        timings = Timings(retrieve_s, turn.first_token_s, time.perf_counter() - started)
        log.info("answered", extra={"question": asked.text, "retrieve_s": round(retrieve_s, 3),
                                    "total_s": round(timings.total_s, 3), "removed": len(checked.removed)})
        if checked.declined and not checked.citations:
            yield self._abstain(asked.text, passages, timings, model=model, notice=notice, removed=checked.removed)
            return
        # A cited decline ("the price was not disclosed [1]") keeps its words and source.
        yield Answer(text=checked.text, citations=checked.citations, abstained=checked.declined,
                     standalone_question=asked.text, timings=timings, model=model, notice=notice,
                     removed=checked.removed)

    def _answer_one(self, asked: Question, passages: list[Passage], turn: Turn,
                    ) -> Generator[Event, None, tuple[Checked, str, str]]:
        """Pass 1 on the focused passages; pass 2 on the top article's best sentences alone when
        pass 1 found nothing and retrieval is confident."""
        context = fit_passages(asked, focus(asked, passages), self.context_chars)
        checked, model, notice = yield from self._generate_checked(asked, context, turn)
        closer = self._second_look(asked, passages) if checked.declined and not checked.citations else []
        if closer and _spans(closer) != _spans(context):  # (else pass 1 showed just that)
            yield SecondLook()
            second, model2, notice2 = yield from self._generate_checked(asked, closer, turn)
            if second.citations and not second.declined:
                checked, model, notice = second, model2, notice2
            else:
                checked = replace(checked, removed=checked.removed + second.removed)
        if asked.asks == "amount" and checked.citations and not checked.declined:
            checked = conflicting_figures(checked, asked, self.store.article_text)
        return checked, model, notice

    def _generate_checked(self, asked: Question, context: list[Passage], turn: Turn,
                          ) -> Generator[Event, None, tuple[Checked, str, str]]:
        reply = yield from self.writer.write(asked, context, turn)
        return check_reply(reply, asked, self.store.article_text), reply.model, reply.notice

    def _second_look(self, asked: Question, passages: list[Passage]) -> list[Passage]:
        """The top article's best sentences, in up to three short windows within
        ``second_look_chars``, when retrieval is confident: the top article names at least half of
        what was asked (or, for a question naming nothing, is close to it). The small model often
        declines a full context that holds the answer, and answers from a few sentences of it."""
        if not self.second_look_chars or not passages:
            return []
        top = passages[0]
        text = self.store.article_text(top.article_id)
        haystack = f"{top.title}\n{text}".lower()
        if asked.specific:
            named = sum(mentions(haystack, name.lower()) for name in asked.specific)
            if named * 2 < len(asked.specific) or not named:
                return []
        elif top.similarity < self.min_similarity + 0.1:
            return []
        return best_windows(asked, replace(top, text=text, start=0, end=len(text)), self.second_look_chars)

    def _compare(self, asked: Question, filters: Filters | dict[str, str] | None, turn: Turn,
                 ) -> Generator[Event, None, tuple[Checked, str, str]]:
        """One sub-question per member (or part), each on its own evidence; the answer composed in code."""
        parts: list[tuple[str, Checked, list[Passage]]] = []
        model, notice = self.model_name, ""
        lexicon = self.store.lexicon()
        subs = [(m, asked.about(m)) for m in asked.members] or [(p, read_question(p, lexicon)) for p in asked.parts]
        for n, (member, sub) in enumerate(subs):
            passages = [p for p in self.retriever.search(sub, filters=Filters.of(filters))
                        if not asked.members or mentions(f"{p.title} {p.text}".lower(), member.lower())]
            if n:
                yield "\n"
            if not passages:
                parts.append((member, Checked("", [], [], True), []))
                continue
            if _by_date(asked):
                checked = self._first_report(member, sub, passages)  # no LLM: a date is compared in code
                yield checked.text
            else:
                checked, model, notice = yield from self._answer_one(sub, passages, turn)
            parts.append((member, checked, passages))
        return compose(asked, parts), model, notice

    def _first_report(self, member: str, asked: Question, passages: list[Passage]) -> Checked:
        """For "which came first?", one member's evidence: the earliest article among its passages
        that names all it is asked by (those with the member in their title, if any: an article on
        Gebru's exit that mentions Mitchell is no report of Mitchell's), with that passage's sentence
        matching the question best."""
        wanted = [name.lower() for name in asked.specific]
        naming = [p for p in passages if all(mentions(f"{p.title} {p.text}".lower(), w) for w in wanted)]
        titled = [p for p in naming if member.lower() in p.title.lower()]
        first = min(titled or naming or passages[:1], key=lambda p: p.date or "9999")
        spans = split_sentences(first.text) or [(0, len(first.text))]
        start, end = max(spans, key=lambda span: sentence_score(asked, first.text[span[0]:span[1]]))
        return check_answer(f"{first.text[start:end].strip()} [1]", [first], asked, self.store.article_text)

    # -- steps ------------------------------------------------------------------------------

    def _require_articles(self) -> None:
        if self.store.count()[0] == 0:
            raise IndexNotFoundError(
                f'no articles in {self.store.data_dir}; run "assistant ingest seeds/" (or upload articles) first')

    def _unanswerable(self, asked: Question, passages: list[Passage]) -> bool:
        """Retrieval-level abstention: the names or the round asked about are absent, or nothing is close.

        Skipping the LLM here is both faster and safer: a small model handed near-misses
        turns them into confident inventions.
        """
        if not passages or asked.unknown:
            return True
        if asked.specific and len(missing_names(asked, passages)) == len(asked.specific):
            return True
        best_similarity = max(p.similarity for p in passages)
        best_overlap = max(keyword_overlap(asked, p) for p in passages)
        if best_similarity < self.min_similarity and best_overlap < 0.5:
            return True
        named_round = _ROUND.search(asked.text)
        return bool(named_round and asked.specific and not asked.members
                    and self._other_round_only(asked.specific[0], named_round.group(), passages))

    def _other_round_only(self, name: str, named_round: str, passages: list[Passage]) -> bool:
        """The articles about ``name`` name other rounds but never the one asked about
        ("Covariant's Series D" when its articles only know its Series B)."""
        texts = [f"{p.title}\n{self.store.article_text(p.article_id)}" for p in passages
                 if mentions(f"{p.title} {p.text}".lower(), name.lower())]
        rounds = {_round_key(m.group()) for text in texts for m in _ROUND.finditer(text)}
        return bool(rounds) and _round_key(named_round) not in rounds

    def _abstain(self, question: str, passages: list[Passage], timings: Timings, *, model: str = "",
                 notice: str = "", removed: list[str] | None = None) -> Answer:
        seen: dict[str, Passage] = {}
        for passage in passages:
            seen.setdefault(passage.article_id, passage)
        return Answer(text=NOT_FOUND, citations=[], abstained=True, standalone_question=question, timings=timings,
                      model=model or self.model_name, suggestions=list(seen.values())[:3], notice=notice,
                      removed=removed or [])


def focus(question: Question, passages: list[Passage]) -> list[Passage]:
    """Only the passages about what the question names: those naming the most of it.

    Passages about other companies are noise a small model happily answers from, and
    every one of them costs prompt-evaluation time.
    """
    asked = [name.lower() for name in question.specific]
    if not asked:
        return passages
    counts = [sum(mentions(f"{p.title} {p.text}".lower(), name) for name in asked) for p in passages]
    needed = max(counts)
    return [p for p, count in zip(passages, counts, strict=True) if count >= needed] if needed else passages


def compose(asked: Question, parts: list[tuple[str, Checked, list[Passage]]]) -> Checked:
    """Join the members' (or parts') verified sub-answers, renumbering their citations, and compare
    the members' amounts in code; a member or part with no answer is said to be missing."""
    text, citations, removed, missing = [], [], [], []
    figures: list[tuple[str, float, str, str]] = []  # member, value, as written, markers
    dated: list[tuple[str, str]] = []  # date of its first citation with its marker, member as asked
    labels = asked.sides or asked.members or tuple(member for member, _, _ in parts)
    for (member, checked, _), label in zip(parts, labels, strict=False):
        removed += checked.removed
        if checked.declined or not checked.citations:
            missing.append(member)
            continue
        offset = len(citations)
        renumbered = re.sub(r"\[(\d+)\]", lambda m, offset=offset: f"[{int(m.group(1)) + offset}]", checked.text)
        citations += [replace(c, n=c.n + offset) for c in checked.citations]
        text.append(renumbered)
        found = amounts_in(renumbered)
        if found:
            value, written = max(found)
            markers = "".join(f"[{n}]" for n in dict.fromkeys(re.findall(r"\d+", " ".join(
                re.findall(r"\[\d+\]", renumbered)))))
            figures.append((member, value, written, markers))
        if checked.citations[0].date:
            dated.append((f"{checked.citations[0].date} [{checked.citations[0].n + offset}]", label))
    if not citations:
        return Checked("", [], removed, True)
    if asked.members and len(figures) >= 2 and (asked.asks == "amount" or _MORE.search(asked.text)):
        ranked = sorted(figures, key=lambda f: f[1], reverse=True)
        (top, high, high_text, m1), (low_name, low, low_text, m2) = ranked[0], ranked[-1]
        if high > low:
            text.append(f"{top}'s {high_text} is {format_amount(high - low, high_text)} more than "
                        f"{low_name}'s {low_text} {m1}{m2}.")
    first = bool(_FIRST.search(asked.text))
    if len(dated) >= 2 and _by_date(asked) and len({date[:10] for date, _ in dated}) == len(dated):
        ordered = sorted(dated, reverse=not first)  # by the articles' dates: the first report of each
        text.append(f"{ordered[0][1]} came {'first' if first else 'later'}, by the articles' dates: "
                    + ", against ".join(f"{date} for {label}" for date, label in ordered) + ".")
    for member in missing:
        text.append(f"The articles don't give the answer for {member}." if asked.members else
                    f"The articles don't answer “{member}”")
    return Checked(" ".join(text), citations, removed, False)


def _spans(passages: list[Passage]) -> list[tuple[str, int, int]]:
    return [(p.article_id, p.start, p.end) for p in passages]


def _by_date(asked: Question) -> bool:
    """Whether a comparison asks which came first (or later), not which is bigger ("its first round")."""
    return bool(asked.members and asked.asks != "amount" and not _MORE.search(asked.text)
                and (_FIRST.search(asked.text) or _LATER.search(asked.text)))


def _round_key(name: str) -> str:
    return re.sub(r"[\s-]", "", name.lower())


_engines: dict[Any, Engine] = {}
_engines_lock = threading.Lock()


def default_engine(settings: Settings | None = None) -> Engine:
    """The engine for ``settings`` (loaded from the environment by default), built once."""
    from .config import load_settings

    settings = settings or load_settings()
    with _engines_lock:
        if settings not in _engines:
            _engines[settings] = Engine.from_settings(settings)
        return _engines[settings]


__all__ = ["DECLINE", "Engine", "Event", "Retrieved", "SecondLook", "default_engine"]
