"""Persistence: SQLAlchemy 2.0 models, repositories, the unit of work and Alembic migrations.

Nothing in this package imports from ``bot`` or ``handlers``.
"""
