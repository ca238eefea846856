"""hot path: the clients change counter read by per-process client caches

Revision ID: 0004_hot_path
Revises: 0003_recovery_attempts_dropped
Create Date: 2026-11-27 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_hot_path'
down_revision = '0003_recovery_attempts_dropped'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "clients_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients_version")),
    )
    # The one row every client change bumps (idp.clients.cache).
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade():
    op.drop_table("clients_version")
