"""Queue indexes whose scans touch only the rows a statement returns.

Every dispatcher statement reads queued rows in dispatch order (priority first, then
age) and filters on due time and expiry. Partial indexes of the queued rows hold all
the columns those statements filter and sort on, so a claim walks the index in order
and stops at its limit: it never reads the 4 kB request bodies of the rows behind
it, never sorts, and finished requests (the bulk of the table) are not in them. The
lease index serves the sweep for lapsed claims; the subscriber index serves a result
stream's count of its unacknowledged results.

Revision ID: 0002_queue_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_queue_indexes"
down_revision = "0001"

# Queued rows never belong to a batch job (a job's requests are PROCESSING from their claim on).
QUEUED = "status = 'queued'"
ACTIVE = "status IN ('queued', 'processing')"
RUNNING = "status = 'processing'"
ORDER = [sa.text("priority DESC"), "created_at", "request_id", "not_before", "expire_at"]


def _partial(name: str, table: str, columns: list, where: str) -> None:
    op.create_index(name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    # Indexes led by status invite SQLite's planner (no statistics) to search by status and sort.
    op.drop_index("ix_lps_requests_claim", table_name="lps_requests")
    op.drop_index("ix_lps_requests_expiry", table_name="lps_requests")
    _partial("ix_lps_requests_queue_expiry", "lps_requests", ["expire_at"], QUEUED)
    _partial("ix_lps_requests_active", "lps_requests", ["status"], ACTIVE)
    _partial("ix_lps_requests_queue_head", "lps_requests", [*ORDER, "bundle_key"], QUEUED)
    _partial("ix_lps_requests_queue_model", "lps_requests", ["provider", "model", *ORDER], QUEUED)
    _partial("ix_lps_requests_queue_bundle", "lps_requests", ["bundle_key", *ORDER], QUEUED)
    _partial("ix_lps_requests_leases", "lps_requests", ["lease_until", "batch_job_id", "attempts"], RUNNING)
    _partial("ix_lps_results_subscriber", "lps_results", ["leased_to", "lease_until"], "acked_at IS NULL")


def downgrade() -> None:
    for name in (
        "ix_lps_requests_queue_head",
        "ix_lps_requests_queue_model",
        "ix_lps_requests_queue_bundle",
        "ix_lps_requests_queue_expiry",
        "ix_lps_requests_active",
    ):
        op.drop_index(name, table_name="lps_requests")
    op.drop_index("ix_lps_requests_leases", table_name="lps_requests")
    op.drop_index("ix_lps_results_subscriber", table_name="lps_results")
    op.create_index("ix_lps_requests_claim", "lps_requests", ["status", "priority", "created_at"])
    op.create_index("ix_lps_requests_expiry", "lps_requests", ["status", "expire_at"])
