"""recovery requests: drop the attempts column (codes count attempts on their challenge)

Revision ID: 0003_recovery_attempts_dropped
Revises: 0002_pending_authentication
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_recovery_attempts_dropped'
down_revision = '0002_pending_authentication'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recovery_requests', schema=None) as batch_op:
        batch_op.drop_column('attempts')


def downgrade():
    with op.batch_alter_table('recovery_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
