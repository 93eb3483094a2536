"""Full-text search over a user's chunks: one interface, two backends.

SQLite uses FTS5 with the Porter stemmer over the heading and the text (its ``bm25()``
ranking); PostgreSQL uses a generated ``tsvector``
('draftsmith_english': English stemming, stopwords kept; heading weight A, text weight
B) with a GIN index, and computes Okapi BM25 in SQL from the lexeme positions, so both
rank passages the same way (the documents list on PostgreSQL is ranked by the cheaper
``ts_rank``: ``_PG_RANK_DOCUMENTS``). Navigation and boilerplate chunks
(``chunks.boilerplate``) are left out of results unless asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ChunkRow

# BM25 parameters (the FTS5 defaults).
K1 = 1.2
B = 0.75
MAX_TERMS = 32
#: A query word in the chunk's heading counts this many times one in its text (2.0 did no
#: better on the labelled questions and worse on the held-out ones).
HEADING_WEIGHT = 1.0
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    document_id: str
    ordinal: int
    text: str
    page: int | None
    heading: str | None
    start: int
    end: int
    score: float  # higher is better
    page_label: str | None = None
    section: str | None = None


def query_terms(query: str) -> list[str]:
    """Distinct lower-cased words of a query, in order (at most MAX_TERMS).

    Stopwords stay: BM25 gives them little weight, and on the labelled questions (both
    sets) dropping them lost answers whose wording shares little but function words."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if len(seen) >= MAX_TERMS:
            break
        seen.setdefault(word, None)
    return list(seen)


def _fts5_query(terms: list[str], match_all: bool) -> str:
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    return (" AND " if match_all else " OR ").join(quoted)


_HIT_COLUMNS = (
    'c.id, c.document_id, c.ordinal, c.text, c.page, c.heading, c.start, c."end", '
    "c.page_label, c.section"
)


def hit_columns() -> tuple:
    """The ``ChunkRow`` columns a hit is made of, in ``_HIT_COLUMNS``' order (for ORM selects)."""
    return (
        ChunkRow.id, ChunkRow.document_id, ChunkRow.ordinal, ChunkRow.text, ChunkRow.page,
        ChunkRow.heading, ChunkRow.start, ChunkRow.end, ChunkRow.page_label, ChunkRow.section,
    )  # fmt: skip


def make_hit(row, score: float) -> SearchHit:
    """The hit of a row whose first columns are ``_HIT_COLUMNS`` (or ``hit_columns()``)."""
    return SearchHit(*row[:8], score=float(score), page_label=row[8], section=row[9])


def _hit(row) -> SearchHit:
    return make_hit(row, row[10])


async def retrieve(
    db: AsyncSession,
    user_id: str,
    query: str,
    document_ids: list[str] | None = None,
    k: int = 8,
    match_all: bool = False,
    boilerplate: bool = False,
) -> list[SearchHit]:
    """The top-k chunks for a query, BM25-ranked, restricted to the user (and documents);
    navigation and boilerplate chunks only when ``boilerplate`` is true."""
    terms = query_terms(query)
    if not terms or (document_ids is not None and not document_ids):
        return []
    doc_filter = "AND c.document_id IN :document_ids" if document_ids is not None else ""
    if not boilerplate:
        doc_filter += " AND NOT c.boilerplate"
    run = _retrieve_sqlite if db.bind.dialect.name == "sqlite" else _retrieve_postgres
    return await run(db, user_id, terms, document_ids, k, match_all, doc_filter)


async def _retrieve_sqlite(
    db, user_id, terms, document_ids, k, match_all, doc_filter
) -> list[SearchHit]:
    statement = text(
        f"SELECT {_HIT_COLUMNS}, -{_SQLITE_RANK} AS score "
        "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
        f"WHERE chunks_fts MATCH :match AND c.user_id = :user_id {doc_filter} "
        f"ORDER BY {_SQLITE_RANK} LIMIT :k"
    )
    params = {"match": _fts5_query(terms, match_all), "user_id": user_id, "k": k}
    if document_ids is not None:
        statement = statement.bindparams(bindparam("document_ids", expanding=True))
        params["document_ids"] = list(document_ids)
    rows = await db.execute(statement, params)
    return [_hit(row) for row in rows]


_PG_BM25 = f"""
WITH q AS (
    SELECT DISTINCT lexeme FROM unnest(to_tsvector('draftsmith_english', :query))
),
stats AS (
    -- collection statistics from the documents' counters: no scan of the chunks
    SELECT greatest(sum(d.chunk_count), 1)::float AS n,
           greatest(sum(d.word_count)::float / greatest(sum(d.chunk_count), 1), 1) AS avgdl
    FROM documents d
    WHERE d.user_id = :user_id AND d.status = 'ready' {{doc_filter_documents}}
),
matches AS (
    SELECT c.id, c.word_count, u.lexeme,
           (SELECT coalesce(sum(CASE w WHEN 'A' THEN {HEADING_WEIGHT} ELSE 1.0 END), 1.0)
            FROM unnest(u.weights) AS w)::float AS tf
    FROM chunks c CROSS JOIN LATERAL unnest(c.tsv) AS u
    WHERE c.tsv @@ to_tsquery('simple', :tsquery) AND c.user_id = :user_id {{doc_filter}}
      AND u.lexeme IN (SELECT lexeme FROM q)
),
df AS (
    SELECT lexeme, count(*)::float AS df FROM matches GROUP BY lexeme
),
scored AS (
    SELECT m.id, sum(
        ln(1 + greatest(stats.n - df.df + 0.5, 0.5) / (df.df + 0.5))
        * m.tf * {K1 + 1} / (m.tf + {K1} * (1 - {B} + {B} * m.word_count / stats.avgdl))
    ) AS score
    FROM matches m JOIN df USING (lexeme) CROSS JOIN stats
    GROUP BY m.id
    ORDER BY score DESC LIMIT :k
)
"""
_PG_TOP_CHUNKS = f"""
SELECT {_HIT_COLUMNS}, scored.score FROM scored JOIN chunks c ON c.id = scored.id
ORDER BY scored.score DESC, c.id
"""


async def _retrieve_postgres(
    db, user_id, terms, document_ids, k, match_all, doc_filter
) -> list[SearchHit]:
    # Lexemes as the index's configuration (stemmed) sees them, each quoted as a tsquery literal.
    lexemes = (
        (
            await db.execute(
                text(
                    "SELECT DISTINCT lexeme FROM unnest(to_tsvector('draftsmith_english', :query))"
                ),
                {"query": " ".join(terms)},
            )
        )
        .scalars()
        .all()
    )
    if not lexemes:
        return []
    tsquery = (" & " if match_all else " | ").join(
        "'" + x.replace("'", "''") + "'" for x in lexemes
    )
    scored = _PG_BM25.format(
        doc_filter=doc_filter,
        doc_filter_documents="AND d.id IN :document_ids" if document_ids is not None else "",
    )
    statement = text(scored + _PG_TOP_CHUNKS)
    params = {"query": " ".join(terms), "tsquery": tsquery, "user_id": user_id, "k": k}
    if document_ids is not None:
        statement = statement.bindparams(bindparam("document_ids", expanding=True))
        params["document_ids"] = list(document_ids)
    rows = await db.execute(statement, params)
    return [_hit(row) for row in rows]


_SQLITE_RANK = f"bm25(chunks_fts, {HEADING_WEIGHT}, 1.0)"
#: MATERIALIZED: bm25() only works in the full-text query itself, not once SQLite has
#: flattened that query into the aggregate. CROSS JOIN: the full-text index first, then
#: each match's chunk by its key; left to itself, SQLite walks every chunk of the user
#: and asks the index about each (20x slower for 1,800 chunks).
_SQLITE_RANK_DOCUMENTS = (
    "WITH s AS MATERIALIZED ("
    f"  SELECT c.document_id AS document_id, -{_SQLITE_RANK} AS score "
    "  FROM chunks_fts CROSS JOIN chunks c ON c.id = chunks_fts.rowid "
    "  WHERE chunks_fts MATCH :match AND c.user_id = :user_id AND NOT c.boilerplate"
    ") SELECT document_id, max(score) AS best FROM s "
    "GROUP BY document_id ORDER BY best DESC, document_id LIMIT :k"
)


#: On PostgreSQL the list is ranked by ts_rank, computed in C from the index's own vectors
#: (the heading's weight A against the text's as in retrieval, length-normalised): BM25
#: there means unnesting every matching chunk's vector, 5-10x the cost, which retrieval
#: for a draft pays and a search box as you type should not.
_TS_RANK_WEIGHTS = "{{{0},{0},{0},1}}".format(round(1 / HEADING_WEIGHT, 3))  # D, C, B, A
_PG_RANK_DOCUMENTS = f"""
WITH q AS (SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' & ')) AS tsq
           FROM unnest(to_tsvector('draftsmith_english', :query)))
SELECT c.document_id, max(ts_rank('{_TS_RANK_WEIGHTS}', c.tsv, q.tsq, 1)) AS score
FROM chunks c CROSS JOIN q
WHERE q.tsq IS NOT NULL AND c.tsv @@ q.tsq AND c.user_id = :user_id AND NOT c.boilerplate
GROUP BY c.document_id ORDER BY score DESC, c.document_id LIMIT :k
"""


async def rank_documents(
    db: AsyncSession, user_id: str, query: str, limit: int = 200
) -> list[tuple[str, float]]:
    """The user's documents matching every query word, best first (score of the best chunk).

    Ranked in the database, document ids only: no chunk text is fetched."""
    terms = query_terms(query)
    if not terms:
        return []
    if db.bind.dialect.name == "sqlite":
        statement = text(_SQLITE_RANK_DOCUMENTS)
        params = {"match": _fts5_query(terms, True), "user_id": user_id, "k": limit}
    else:
        statement = text(_PG_RANK_DOCUMENTS)
        params = {"query": " ".join(terms), "user_id": user_id, "k": limit}
    return [(row[0], float(row[1])) for row in await db.execute(statement, params)]
