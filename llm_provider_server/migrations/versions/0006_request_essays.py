"""The two essays of a request in columns of their own, beside the rest of its spec (JSON).

Encoding a request's spec as JSON escaped both essays character by character on every submit
and parsed them again on every claim: most of the LPS's JSON work. Requests written before this
revision keep their essays inside spec_json (these columns NULL) and are read as before.

Revision ID: 0006_request_essays
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006_request_essays"
down_revision = "0005_batch_poll_resilience"


def upgrade() -> None:
    op.add_column("lps_requests", sa.Column("essay_a", sa.Text, nullable=True))
    op.add_column("lps_requests", sa.Column("essay_b", sa.Text, nullable=True))


def downgrade() -> None:
    # Put the essays back into the specs of the requests written since, then drop the columns.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT request_id, spec_json, essay_a, essay_b FROM lps_requests WHERE essay_a IS NOT NULL")
    ).all()
    for request_id, spec_json, essay_a, essay_b in rows:
        spec = json.loads(spec_json)
        spec.update(essay_a=essay_a, essay_b=essay_b)
        bind.execute(
            sa.text("UPDATE lps_requests SET spec_json = :spec WHERE request_id = :id"),
            {"spec": json.dumps(spec, sort_keys=True), "id": request_id},
        )
    with op.batch_alter_table("lps_requests") as batch:
        batch.drop_column("essay_b")
        batch.drop_column("essay_a")
