"""The columns the tables share: annotated types (``user_id: Mapped[SlackId]``, ``Mapped[SlackId | None]``), each
naming one kind of value and the one column definition it is stored as, and the ``PartnershipOwned`` mixin.
"""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

#: The surrogate primary key of a table.
PrimaryId = Annotated[int, mapped_column(primary_key=True)]
#: A Slack id: a user (who created, owns, acted...), a channel or a team.
SlackId = Annotated[str, mapped_column(String(32))]
#: A side of the partnership: "client" or "provider".
Side = Annotated[str, mapped_column(String(10))]
#: The key of the request that created a row, so that a repeated delivery does not create it twice.
RequestKey = Annotated[str, mapped_column(String(100))]


class PartnershipOwned:
    """A row that belongs to one partnership (deleted with it): the table starts with its own id and its partnership's."""

    # sort_order keeps them the table's first two columns (a mixin's columns would otherwise come last).
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-2)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True, sort_order=-1)
