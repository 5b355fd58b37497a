"""The store's keyword side, read: bm25 search over the chunks' FTS5 index, and the corpus's
name lexicon from the names and vocabulary tables (``storecheck`` writes both at ingest).

Like ``storecheck`` this module never imports sqlite3 (only ``store`` opens the database): it
runs SQL on the connection it is handed, and ``Store`` turns SQLite's errors into ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .entities import Lexicon
from .text import key_terms, stem


def corpus_version(db: Any) -> tuple[int, int, float]:
    """Articles, chunks and the latest write: changes when articles are added, replaced or deleted."""
    return tuple(db.execute("SELECT count(*), (SELECT count(*) FROM chunks), coalesce(max(added_at), 0) "
                            "FROM articles").fetchone())


def read_lexicon(db: Any, articles: int) -> Lexicon:
    """The names found at ingest that are names more often than lower-case words, with how often
    the keyword index holds each word (``entities.Lexicon.build``)."""
    # (With max(n), SQLite takes the name column from the article that writes it most.)
    rows = db.execute("SELECT norm, name, count(*), sum(n), max(n), sum(lower) FROM names GROUP BY norm "
                      "HAVING sum(n) > sum(lower)").fetchall()
    # (Apart: a second max() would leave the name column's article undefined.)
    proper = dict(db.execute("SELECT norm, max(n) FROM names WHERE lower = 0 GROUP BY norm").fetchall())
    vocabulary = dict(db.execute("SELECT term, cnt FROM chunks_vocab").fetchall())

    def word_count(word: str) -> int:  # how often the keyword index holds the word, in any case
        return vocabulary.get(stem(word), 0)

    return Lexicon.build([(*row[:4], proper.get(row[0], 0), row[5]) for row in rows], word_count, articles,
                         lambda w: word_count(w) > 0)


def search(db: Any, question: str, n: int, allowed: Sequence[str] | None = None) -> list[tuple[str, float]]:
    """``(chunk_id, bm25 score)`` of the ``n`` best matches of the question's key terms (higher is
    better), among the chunks of the ``allowed`` articles when given."""
    wanted = key_terms(question)
    if not wanted or (allowed is not None and not allowed):
        return []
    query = " OR ".join(f'"{t}"' for t in wanted)
    sql = ("SELECT c.id, -bm25(chunks_fts) AS score FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
           "WHERE chunks_fts MATCH ?")
    args: list[Any] = [query]
    if allowed is not None:
        sql += f" AND c.article_id IN ({','.join('?' * len(allowed))})"
        args += allowed
    sql += " ORDER BY bm25(chunks_fts) LIMIT ?"
    return [(row[0], row[1]) for row in db.execute(sql, [*args, n])]
