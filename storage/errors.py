"""Storage errors services may catch, so they never import SQLAlchemy's exceptions."""

from __future__ import annotations


class DuplicateKey(Exception):
    """A write broke a unique key: another transaction (or a repeated delivery) stored the same row first.

    Raised by ``UnitOfWork.commit_or_duplicate`` (after rolling back) and ``UnitOfWork.savepoint`` (after rolling
    back to the savepoint); the original database error is its ``__cause__``.
    """


def is_unique_violation(error: BaseException | None) -> bool:
    """Whether a driver error is a unique-key violation (PostgreSQL SQLSTATE 23505, SQLite's UNIQUE constraint)."""
    if error is None:
        return False
    if getattr(error, "sqlstate", None) == "23505" or getattr(error, "pgcode", None) == "23505":
        return True
    text = str(error)
    return "UNIQUE constraint failed" in text or "duplicate key" in text
