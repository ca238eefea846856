"""verified email, the mail outbox and the sign-in history

Revision ID: 0013_email
Revises: 0012_passkeys
Create Date: 2026-12-03 15:00:00

"""
from alembic import op
import sqlalchemy as sa

from idp.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0013_email'
down_revision = '0012_passkeys'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_verified_at", UTCDateTime(), nullable=True))
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(op.f("ix_mail_outbox_recipient"), "mail_outbox", ["recipient"])
    op.create_index(op.f("ix_mail_outbox_created_at"), "mail_outbox", ["created_at"])
    op.create_table(
        "email_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("code_hmac", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("consumed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_challenges")),
    )
    op.create_index(op.f("ix_email_challenges_subject"), "email_challenges", ["subject"])
    op.create_index(op.f("ix_email_challenges_email"), "email_challenges", ["email"])
    op.create_index(op.f("ix_email_challenges_created_at"), "email_challenges", ["created_at"])
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=False),
        sa.Column("ip_prefix", sa.String(length=45), nullable=True),
        sa.Column("new_device", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sign_ins_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_ins")),
    )
    op.create_index("ix_sign_ins_user_device", "sign_ins", ["user_id", "device_hash"])
    op.create_index("ix_sign_ins_user_created", "sign_ins", ["user_id", "created_at"])


def downgrade():
    op.drop_index("ix_sign_ins_user_created", table_name="sign_ins")
    op.drop_index("ix_sign_ins_user_device", table_name="sign_ins")
    op.drop_table("sign_ins")
    op.drop_index(op.f("ix_email_challenges_created_at"), table_name="email_challenges")
    op.drop_index(op.f("ix_email_challenges_email"), table_name="email_challenges")
    op.drop_index(op.f("ix_email_challenges_subject"), table_name="email_challenges")
    op.drop_table("email_challenges")
    op.drop_index(op.f("ix_mail_outbox_created_at"), table_name="mail_outbox")
    op.drop_index(op.f("ix_mail_outbox_recipient"), table_name="mail_outbox")
    op.drop_table("mail_outbox")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_verified_at")
