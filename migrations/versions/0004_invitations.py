"""Invitations: the invitation limiter's sliding-window hits (Appendix B).

`workspace_invitation` and its partial unique index already exist (0002_accounts).

Revision ID: 0004_invitations
Revises: 0003_core_loop
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_invitations'
down_revision = '0003_core_loop'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation_rate_hit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('gate', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_rate_hit'))
    )
    with op.batch_alter_table('invitation_rate_hit', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_rate_hit_gate_key_created_at', ['gate', 'key', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('invitation_rate_hit', schema=None) as batch_op:
        batch_op.drop_index('ix_invitation_rate_hit_gate_key_created_at')

    op.drop_table('invitation_rate_hit')
