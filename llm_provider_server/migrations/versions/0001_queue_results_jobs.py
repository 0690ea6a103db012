"""Queue of comparison requests, the result log, and provider batch jobs.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lps_requests",
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("bundle_key", sa.String(64), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("expire_at", sa.Float, nullable=False),
        sa.Column("not_before", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("lease_until", sa.Float),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("batch_job_id", sa.String(64)),
        sa.Column("batch_index", sa.Integer),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_lps_requests_claim", "lps_requests", ["status", "priority", "created_at"])
    op.create_index("ix_lps_requests_expiry", "lps_requests", ["status", "expire_at"])
    op.create_index("ix_lps_requests_batch_job", "lps_requests", ["batch_job_id", "batch_index"])

    op.create_table(
        "lps_results",
        sa.Column("sequence", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(128), nullable=False, unique=True),
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("result_json", sa.Text, nullable=False),
        sa.Column("completed_at", sa.Float, nullable=False),
        sa.Column("acked_at", sa.Float),
        sa.Column("leased_to", sa.String(64)),
        sa.Column("lease_until", sa.Float),
        sa.Column("deliveries", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_lps_results_delivery", "lps_results", ["consumer", "acked_at", "sequence"])

    op.create_table(
        "lps_batch_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(128), unique=True),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("provider_job_id", sa.String(128)),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("counts_json", sa.Text, nullable=False),
        sa.Column("error_json", sa.Text),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("submitted_at", sa.Float),
        sa.Column("in_progress_at", sa.Float),
        sa.Column("finalizing_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("expire_at", sa.Float),
        sa.Column("cancel_at", sa.Float),
        sa.Column("cancel_sent_at", sa.Float),
        sa.Column("next_poll_at", sa.Float, nullable=False),
        sa.Column("poller", sa.String(64)),
        sa.Column("poll_lease_until", sa.Float),
    )
    op.create_index("ix_lps_batch_jobs_poll", "lps_batch_jobs", ["state", "next_poll_at"])
    op.create_index("ix_lps_batch_jobs_created", "lps_batch_jobs", ["created_at", "job_id"])
