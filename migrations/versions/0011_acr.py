"""assurance levels: a citizen's "always ask my second factor", a client's default and
minimum acr

Revision ID: 0011_acr
Revises: 0010_introspect
Create Date: 2026-12-03 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_acr'
down_revision = '0010_introspect'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("always_second_factor", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("default_acr_values", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.add_column(sa.Column("minimum_acr", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("minimum_acr")
        batch.drop_column("default_acr_values")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("always_second_factor")
