"""par: pushed authorization requests (RFC 9126) and the clients' PAR / request object settings

Revision ID: 0008_par
Revises: 0007_request_ids
Create Date: 2026-12-03 15:00:00

"""
from alembic import op
import sqlalchemy as sa

import idp.models.base


# revision identifiers, used by Alembic.
revision = '0008_par'
down_revision = '0007_request_ids'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pushed_authorization_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('expires_at', idp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', idp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_pushed_authorization_requests_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pushed_authorization_requests')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_pushed_authorization_requests_key_hash'))
    )
    with op.batch_alter_table('pushed_authorization_requests') as batch:
        batch.create_index(batch.f('ix_pushed_authorization_requests_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('require_pushed_authorization_requests', sa.Boolean(),
                                   nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('request_object_signing_alg', sa.String(length=8), nullable=True))
    with op.batch_alter_table('clients') as batch:
        # The default served existing rows only; the model sets the value of new ones.
        batch.alter_column('require_pushed_authorization_requests', server_default=None)


def downgrade():
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('request_object_signing_alg')
        batch.drop_column('require_pushed_authorization_requests')
    with op.batch_alter_table('pushed_authorization_requests') as batch:
        batch.drop_index(batch.f('ix_pushed_authorization_requests_expires_at'))
    op.drop_table('pushed_authorization_requests')
