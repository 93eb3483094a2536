"""retrieval: stemmed full-text index over heading and text, boilerplate flag, embeddings

SQLite: the FTS5 table indexes the heading and the text with the Porter stemmer (it
indexed the text alone, unstemmed). PostgreSQL: the generated ``tsvector`` uses
'draftsmith_english' ('english' stemming, stopwords kept) over the heading (weight A)
and the text (weight B). Both are rebuilt for the chunks already stored. Chunks gain
``boilerplate`` (navigation and apparatus, kept out of generation; existing chunks count
as content until reprocessed) and ``embedding`` (a float32 vector, when an embeddings
endpoint is configured).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

# ruff: noqa: S608  (SQL built from this file's fixed column names, no input)
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_OLD_TOKENIZER = "unicode61 remove_diacritics 2"
_NEW_TOKENIZER = "porter unicode61 remove_diacritics 2"


def _sqlite_fts(columns: list[str], tokenizer: str) -> None:
    """(Re)create chunks_fts over ``columns`` of chunks, its triggers, and reindex."""
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS chunks_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS chunks_fts")
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    op.execute(
        f"CREATE VIRTUAL TABLE chunks_fts USING fts5({names}, "
        f"content='chunks', content_rowid='id', tokenize='{tokenizer}')"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "
        f"INSERT INTO chunks_fts(rowid, {names}) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN "
        f"INSERT INTO chunks_fts(chunks_fts, rowid, {names}) "
        f"VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER chunks_fts_update AFTER UPDATE OF {names} ON chunks BEGIN "
        f"INSERT INTO chunks_fts(chunks_fts, rowid, {names}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO chunks_fts(rowid, {names}) VALUES (new.id, {new}); END"
    )
    op.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")


#: 'english' stemming without its stopword list: a query made only of common words (the
#: fallback of documents/search.py) still finds something, as it does on SQLite.
_PG_CONFIG = [
    "CREATE TEXT SEARCH DICTIONARY draftsmith_english_stem "
    "(TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION draftsmith_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION draftsmith_english ALTER MAPPING FOR "
    "asciiword, asciihword, hword_asciipart, word, hword, hword_part "
    "WITH draftsmith_english_stem",
]


_CONFIG = "'draftsmith_english'::regconfig"
#: PostgreSQL's parser keeps "reader.getNumPages" or "docs/api" as one file/host token,
#: where SQLite (and the query's own words) split at the dot and slash: split them too.
_SPLIT = "translate({}, './', '  ')"


def _postgres_tsv(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_chunks_tsv")
    op.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS tsv")
    # a stored generated column is computed for every existing row: the reindex
    op.execute(
        f"ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({expression}) STORED"
    )
    op.execute("CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv)")


def upgrade() -> None:
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("boilerplate", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts(["heading", "text"], _NEW_TOKENIZER)
    else:
        for statement in _PG_CONFIG:
            op.execute(statement)
        heading = _SPLIT.format("coalesce(heading, '')")
        _postgres_tsv(
            f"setweight(to_tsvector({_CONFIG}, {heading}), 'A')"
            f" || setweight(to_tsvector({_CONFIG}, {_SPLIT.format('text')}), 'B')"
        )


def downgrade() -> None:
    # first: SQLite's batch mode copies the table to drop a column, which drops its triggers
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.drop_column("embedding")
        batch_op.drop_column("boilerplate")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts(["text"], _OLD_TOKENIZER)
    else:
        _postgres_tsv("to_tsvector('simple', text)")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS draftsmith_english")
        op.execute("DROP TEXT SEARCH DICTIONARY IF EXISTS draftsmith_english_stem")
