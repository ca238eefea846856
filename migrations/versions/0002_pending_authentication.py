"""pending authentication: a sign-in waiting between its steps

Revision ID: 0002_pending_authentication
Revises: 0001
Create Date: 2026-11-27 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import idp.models.base


# revision identifiers, used by Alembic.
revision = '0002_pending_authentication'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_authentications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('steps_done', sa.JSON(), nullable=False),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.Column('acr', sa.String(length=64), nullable=True),
    sa.Column('next_url', sa.Text(), nullable=True),
    sa.Column('created_at', idp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', idp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pending_authentications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_authentications')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_pending_authentications_key_hash'))
    )
    with op.batch_alter_table('pending_authentications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_authentications_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_authentications_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_authentications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_authentications_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_authentications_expires_at'))

    op.drop_table('pending_authentications')
