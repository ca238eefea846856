"""captcha: one-time CAPTCHA challenges shown past the sign-in and SMS soft limits

Revision ID: 0005_captcha
Revises: 0004_hot_path
Create Date: 2026-12-03 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import idp.models.base


# revision identifiers, used by Alembic.
revision = '0005_captcha'
down_revision = '0004_hot_path'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "captcha_challenges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("expires_at", idp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captcha_challenges")),
    )
    with op.batch_alter_table("captcha_challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_captcha_challenges_expires_at"), ["expires_at"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("captcha_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_captcha_challenges_expires_at"))
    op.drop_table("captcha_challenges")
