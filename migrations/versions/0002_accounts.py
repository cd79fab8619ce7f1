"""Accounts: users, verification codes, workspaces, members and invitations.

Revision ID: 0002_accounts
Revises: 0001_baseline
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002_accounts'
down_revision = '0001_baseline'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('avatar_url', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=32), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('onboarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('onboarding_questionnaire', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('onboarding_questionnaire_submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cloud_waitlist_email', sa.String(length=254), nullable=True),
    sa.Column('cloud_waitlist_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    op.create_table('verification_code',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_code'))
    )
    with op.batch_alter_table('verification_code', schema=None) as batch_op:
        batch_op.create_index('ix_verification_code_email_used_expires_at', ['email', 'used', 'expires_at'], unique=False)

    op.create_table('workspace',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('slug', sa.String(length=48), nullable=False),
    sa.Column('issue_prefix', sa.String(length=8), server_default='ISS', nullable=False),
    sa.Column('issue_counter', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workspace')),
    sa.UniqueConstraint('slug', name=op.f('uq_workspace_slug'))
    )
    op.create_table('member',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_member_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_member_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member')),
    sa.UniqueConstraint('workspace_id', 'user_id', name='uq_member_workspace_id_user_id')
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('workspace_invitation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('inviter_id', sa.Uuid(), nullable=False),
    sa.Column('invitee_email', sa.String(length=254), nullable=False),
    sa.Column('invitee_user_id', sa.Uuid(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitee_user_id'], ['user.id'], name=op.f('fk_workspace_invitation_invitee_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['inviter_id'], ['user.id'], name=op.f('fk_workspace_invitation_inviter_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_workspace_invitation_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workspace_invitation'))
    )
    with op.batch_alter_table('workspace_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspace_invitation_invitee_email'), ['invitee_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_workspace_invitation_workspace_id'), ['workspace_id'], unique=False)
        batch_op.create_index('uq_workspace_invitation_pending', ['workspace_id', 'invitee_email'], unique=True, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))



def downgrade():
    with op.batch_alter_table('workspace_invitation', schema=None) as batch_op:
        batch_op.drop_index('uq_workspace_invitation_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_workspace_invitation_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_workspace_invitation_invitee_email'))

    op.drop_table('workspace_invitation')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_member_user_id'))

    op.drop_table('member')
    op.drop_table('workspace')
    with op.batch_alter_table('verification_code', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_code_email_used_expires_at')

    op.drop_table('verification_code')
    op.drop_table('user')
