"""otp throttles: one row per (purpose, mobile), so the resend delay is per purpose

The rows only hold a resend delay of at most OTP_RESEND_AFTER seconds, so the table is
recreated rather than converted (a deploy forgets at most that delay).

Revision ID: 0006_otp_throttle_purpose
Revises: 0005_captcha
Create Date: 2026-12-03 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import idp.models.base


# revision identifiers, used by Alembic.
revision = '0006_otp_throttle_purpose'
down_revision = '0005_captcha'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('otp_throttles')
    op.create_table(
        'otp_throttles',
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('mobile', sa.String(length=11), nullable=False),
        sa.Column('next_send_at', idp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('purpose', 'mobile', name=op.f('pk_otp_throttles')),
    )


def downgrade():
    op.drop_table('otp_throttles')
    op.create_table(
        'otp_throttles',
        sa.Column('mobile', sa.String(length=11), nullable=False),
        sa.Column('next_send_at', idp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('mobile', name=op.f('pk_otp_throttles')),
    )
