"""Hints for SQLite's planner, which counts the rows per value of an index but knows no value's
frequency: to it "status is open" looks as common as "status is closed", while ten years of
tickets have a few hundred open ones among a million. PostgreSQL keeps the frequencies itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType


class rarely(FunctionElement[bool]):  # reads as SQL: rarely(status IN (...))
    """A condition few rows meet: SQLite's `likelihood(..., 0.001)`, so it reads them by their
    index rather than by another index or the table; the bare condition elsewhere.
    (`unlikely()` says 1 in 16, too common to beat a category among 12.)"""

    # Not Boolean: SQLite has no boolean type, and a Boolean function would be compared
    # with 1, which hides the condition inside from the planner.
    type = NullType()
    inherit_cache = True
    name = "rarely"


@compiles(rarely)
def _plain(element: rarely, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(rarely, "sqlite")
def _sqlite(element: rarely, compiler: Any, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.clauses, **kw)}, 0.001)"
