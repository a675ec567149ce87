from __future__ import annotations

from sqlalchemy.dialects import sqlite

from chain429.usage.bulk_insert import CHUNKS, BulkInsert, insert_rows
from chain429.usage.rows import ATTEMPT_COLUMNS
from chain429.usage.schema import ATTEMPTS


def _row(i: int) -> tuple[object, ...]:
    """An attempt row whose every value names its row and column."""
    return tuple(f"{column}_{i}" for column in ATTEMPT_COLUMNS)


def test_a_batch_is_cut_into_the_largest_chunks_first() -> None:
    bulk = BulkInsert(ATTEMPTS, ATTEMPT_COLUMNS, sqlite.dialect())
    sizes = [
        len(values) // len(ATTEMPT_COLUMNS)
        for _, values in bulk.statements([_row(i) for i in range(300)])
    ]
    assert sizes == [256, 32, 8, 4]
    assert set(sizes) <= set(CHUNKS)


def test_each_value_is_bound_to_its_own_row_and_column() -> None:
    # The rows hold the columns in the row builder's order, the statement in the table's.
    dialect = sqlite.dialect()
    bulk = BulkInsert(ATTEMPTS, ATTEMPT_COLUMNS, dialect)
    (sql, values), (sql_one, _) = bulk.statements([_row(0), _row(1), _row(2)])
    compiled = insert_rows(ATTEMPTS, list(ATTEMPT_COLUMNS), 2).compile(dialect=dialect)
    assert sql.count("(?, ") == 2 and sql_one.count("(?, ") == 1
    assert list(compiled.positiontup or ()) == list(values)


def test_statements_are_compiled_once_per_chunk_size() -> None:
    bulk = BulkInsert(ATTEMPTS, ATTEMPT_COLUMNS, sqlite.dialect())
    (first, _), *_ = bulk.statements([_row(0)])
    (again, _), *_ = bulk.statements([_row(1)])
    assert first is again
