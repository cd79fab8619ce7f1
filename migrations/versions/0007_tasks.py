"""Agent task queue, chat sessions and messages, squads, autopilots and their runs.

Revision ID: 0007_tasks
Revises: 0006_contact_sales
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_tasks'
down_revision = '0006_contact_sales'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('autopilot_run_id', sa.Uuid(), nullable=True))

    op.create_table('agent_task_queue',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=True),
    sa.Column('runtime_id', sa.Uuid(), nullable=True),
    sa.Column('issue_id', sa.Uuid(), nullable=True),
    sa.Column('chat_session_id', sa.Uuid(), nullable=True),
    sa.Column('autopilot_run_id', sa.Uuid(), nullable=True),
    sa.Column('source', sa.String(length=32), server_default='other', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='queued', nullable=False),
    sa.Column('attempt', sa.Integer(), server_default='1', nullable=False),
    sa.Column('prompt', sa.Text(), server_default='', nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('failure_reason', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_agent_task_queue_agent_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_agent_task_queue_issue_id_issue'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['runtime_id'], ['runtime.id'], name=op.f('fk_agent_task_queue_runtime_id_runtime'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_agent_task_queue_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_task_queue'))
    )
    with op.batch_alter_table('agent_task_queue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_task_queue_workspace_id'), ['workspace_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_task_queue_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_task_queue_chat_session_id'), ['chat_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_task_queue_autopilot_run_id'), ['autopilot_run_id'], unique=False)
        # The claim query: the oldest queued task of one runtime.
        batch_op.create_index('ix_agent_task_queue_runtime_id_status_created_at', ['runtime_id', 'status', 'created_at', 'id'], unique=False)

    op.create_table('chat_session',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=True),
    sa.Column('creator_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_chat_session_agent_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['user.id'], name=op.f('fk_chat_session_creator_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_chat_session_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_session'))
    )
    with op.batch_alter_table('chat_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_session_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('chat_message',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('task_id', sa.Uuid(), nullable=True),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_chat_message_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['chat_session.id'], name=op.f('fk_chat_message_session_id_chat_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_message')),
    sa.UniqueConstraint('task_id', 'role', name='uq_chat_message_task_id_role')
    )
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_message_session_id'), ['session_id'], unique=False)

    op.create_table('autopilot',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=True),
    sa.Column('creator_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('prompt', sa.Text(), server_default='', nullable=False),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('trigger_kind', sa.String(length=16), nullable=False),
    sa.Column('webhook_secret_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_autopilot_agent_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['user.id'], name=op.f('fk_autopilot_creator_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_autopilot_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_autopilot'))
    )
    with op.batch_alter_table('autopilot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_autopilot_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('autopilot_run',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('autopilot_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='running', nullable=False),
    sa.Column('trigger_source', sa.String(length=16), nullable=False),
    sa.Column('issue_id', sa.Uuid(), nullable=True),
    sa.Column('task_id', sa.Uuid(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_reason', sa.String(length=64), nullable=True),
    sa.Column('error_type', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['autopilot_id'], ['autopilot.id'], name=op.f('fk_autopilot_run_autopilot_id_autopilot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_autopilot_run_issue_id_issue'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_autopilot_run'))
    )
    with op.batch_alter_table('autopilot_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_autopilot_run_autopilot_id'), ['autopilot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_autopilot_run_task_id'), ['task_id'], unique=False)

    op.create_table('squad',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('creator_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['user.id'], name=op.f('fk_squad_creator_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_squad_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_squad'))
    )
    with op.batch_alter_table('squad', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_squad_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('squad_member',
    sa.Column('squad_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_squad_member_agent_id_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['squad_id'], ['squad.id'], name=op.f('fk_squad_member_squad_id_squad'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('squad_id', 'agent_id', name=op.f('pk_squad_member'))
    )


def downgrade():
    with op.batch_alter_table('autopilot_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_autopilot_run_task_id'))
        batch_op.drop_index(batch_op.f('ix_autopilot_run_autopilot_id'))

    op.drop_table('autopilot_run')
    with op.batch_alter_table('autopilot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_autopilot_workspace_id'))

    op.drop_table('autopilot')
    op.drop_table('squad_member')
    with op.batch_alter_table('squad', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_squad_workspace_id'))

    op.drop_table('squad')
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_message_session_id'))

    op.drop_table('chat_message')
    with op.batch_alter_table('chat_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_session_workspace_id'))

    op.drop_table('chat_session')
    with op.batch_alter_table('agent_task_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_task_queue_runtime_id_status_created_at')
        batch_op.drop_index(batch_op.f('ix_agent_task_queue_autopilot_run_id'))
        batch_op.drop_index(batch_op.f('ix_agent_task_queue_chat_session_id'))
        batch_op.drop_index(batch_op.f('ix_agent_task_queue_issue_id'))
        batch_op.drop_index(batch_op.f('ix_agent_task_queue_workspace_id'))

    op.drop_table('agent_task_queue')
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_column('autopilot_run_id')
