"""Multi-row INSERT statements for one usage table, compiled by SQLAlchemy for the engine's dialect.

One `INSERT ... VALUES (...), (...), ...` per chunk of rows, so SQLite steps one statement per
chunk instead of one per row, and the writer thread lets go of the interpreter lock (which
`sqlite3_step` releases) once per chunk rather than once per row. Chunks are 256, 128, ..., 1
rows: a handful of statements serve every batch size, each compiled on its first use and kept
prepared by the driver. Statements and parameters are positional, as SQLite's driver takes them;
a row's values are bound in the compiled statement's column order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import Dialect, Insert, Table, bindparam, insert

from chain429.usage.rows import Row

CHUNKS: Final = (256, 128, 64, 32, 16, 8, 4, 2, 1)


def insert_rows(table: Table, columns: Sequence[str], rows: int) -> Insert:
    """`INSERT INTO table (columns) VALUES ...` for `rows` rows, value `i` of `column` named
    `<column>_<i>`."""
    values: list[dict[str, Any]] = [
        {name: bindparam(f"{name}_{i}") for name in columns} for i in range(rows)
    ]
    return insert(table).values(values)


class BulkInsert:
    """The chunked multi-row INSERTs of `table`, for rows holding `columns` in that order."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        self._table = table
        self._dialect = dialect
        one_row = insert_rows(table, columns, 1).compile(dialect=dialect)
        self._columns = [name.removesuffix("_0") for name in one_row.positiontup or ()]
        if sorted(self._columns) != sorted(columns):
            raise ValueError(f"{dialect.name} does not take positional parameters")
        self._in_bound_order = itemgetter(*(columns.index(name) for name in self._columns))
        self._sql: dict[int, str] = {}

    def statements(self, rows: Sequence[Row]) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """`(sql, parameters)` for each chunk of `rows`, largest chunks first."""
        ordered = list(map(self._in_bound_order, rows))
        start = 0
        for size in CHUNKS:
            while len(ordered) - start >= size:
                values = tuple(chain.from_iterable(ordered[start : start + size]))
                yield self._statement(size), values
                start += size

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            statement = insert_rows(self._table, self._columns, rows)
            sql = self._sql[rows] = str(statement.compile(dialect=self._dialect))
        return sql
