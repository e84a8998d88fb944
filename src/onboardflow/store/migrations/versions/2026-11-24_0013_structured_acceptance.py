"""structured acceptance criteria: stored versions' free-text criteria move into their description

Acceptance criteria were sentences; they are structured rules now, which a sentence is not. A version
stored with sentences could no longer be read, so each sentence is kept, word for word, in the
version's description, and the rules (if any) stay. The version number and digest are left alone:
loading the same file again, rewritten with rules, makes a new version as any edit does.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NOTE = "Acceptance criteria as first written (sentences, not checked): "


def upgrade() -> None:
    bind = op.get_bind()
    versions = sa.table("journey_versions", sa.column("journey_id", sa.String()),
                        sa.column("version", sa.Integer()), sa.column("definition", JSON))
    rows = bind.execute(sa.select(versions.c.journey_id, versions.c.version, versions.c.definition)).all()
    for journey_id, version, definition in rows:
        moved = without_sentences(definition)
        if moved is not None:
            bind.execute(versions.update()
                         .where(versions.c.journey_id == journey_id, versions.c.version == version)
                         .values(definition=moved))


def without_sentences(definition: Any) -> dict | None:
    """The definition with its sentence criteria moved into the description; None if it has none."""
    criteria = definition.get("acceptance") if isinstance(definition, dict) else None
    sentences = [item for item in criteria or [] if isinstance(item, str)]
    if not sentences:
        return None
    moved = dict(definition)
    rules = [item for item in criteria if not isinstance(item, str)]
    if rules:
        moved["acceptance"] = rules
    else:
        moved.pop("acceptance")
    note = NOTE + "; ".join(sentences)
    moved["description"] = f"{definition['description']}\n\n{note}" if definition.get("description") else note
    return moved


def downgrade() -> None:
    """The sentences stay in the description: a rule cannot be turned back into the words it replaced."""
