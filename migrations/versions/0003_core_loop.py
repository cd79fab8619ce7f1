"""Core loop: daemon tokens, runtimes, agents and issues.

Revision ID: 0003_core_loop
Revises: 0002_accounts
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_core_loop'
down_revision = '0002_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('daemon_token',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_daemon_token_created_by_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_daemon_token_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daemon_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_daemon_token_token_hash'))
    )
    with op.batch_alter_table('daemon_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_daemon_token_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('runtime',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('daemon_id', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('runtime_mode', sa.String(length=16), server_default='local', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='online', nullable=False),
    sa.Column('name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('runtime_version', sa.String(length=64), server_default='', nullable=False),
    sa.Column('cli_version', sa.String(length=64), server_default='', nullable=False),
    sa.Column('registered_by', sa.Uuid(), nullable=True),
    sa.Column('last_heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registered_by'], ['user.id'], name=op.f('fk_runtime_registered_by_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_runtime_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runtime')),
    sa.UniqueConstraint('workspace_id', 'daemon_id', 'provider', name='uq_runtime_workspace_id_daemon_id_provider')
    )
    with op.batch_alter_table('runtime', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runtime_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('agent',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('runtime_id', sa.Uuid(), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('template', sa.String(length=32), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_agent_owner_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['runtime_id'], ['runtime.id'], name=op.f('fk_agent_runtime_id_runtime'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_agent_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent'))
    )
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('issue',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='todo', nullable=False),
    sa.Column('assignee_agent_id', sa.Uuid(), nullable=True),
    sa.Column('creator_id', sa.Uuid(), nullable=True),
    sa.Column('first_executed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_agent_id'], ['agent.id'], name=op.f('fk_issue_assignee_agent_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['user.id'], name=op.f('fk_issue_creator_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_issue_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue')),
    sa.UniqueConstraint('workspace_id', 'number', name='uq_issue_workspace_id_number')
    )
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_workspace_id'), ['workspace_id'], unique=False)



def downgrade():
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_workspace_id'))

    op.drop_table('issue')
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_workspace_id'))

    op.drop_table('agent')
    with op.batch_alter_table('runtime', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runtime_workspace_id'))

    op.drop_table('runtime')
    with op.batch_alter_table('daemon_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daemon_token_workspace_id'))

    op.drop_table('daemon_token')
