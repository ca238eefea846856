"""request ids: the X-Request-ID of the request behind an audit row or a logout job

Revision ID: 0007_request_ids
Revises: 0006_otp_throttle_purpose
Create Date: 2026-12-03 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_request_ids'
down_revision = '0006_otp_throttle_purpose'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("backchannel_logout_jobs") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("backchannel_logout_jobs") as batch:
        batch.drop_column("request_id")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("request_id")
