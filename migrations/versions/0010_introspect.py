"""introspect: signed introspection answers (RFC 9701), JARM and the FAPI 2.0 profile

Revision ID: 0010_introspect
Revises: 0009_dpop
Create Date: 2026-12-03 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_introspect'
down_revision = '0009_dpop'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("introspection_signed_response_alg", sa.String(length=8),
                                   nullable=True))
        batch.add_column(sa.Column("authorization_signed_response_alg", sa.String(length=8),
                                   nullable=True))
        batch.add_column(sa.Column("profile", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("profile")
        batch.drop_column("authorization_signed_response_alg")
        batch.drop_column("introspection_signed_response_alg")
