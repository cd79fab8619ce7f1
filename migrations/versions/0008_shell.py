"""Shell: an idempotency key on issues, so a resubmitted form (the onboarding first issue) counts once.

Revision ID: 0008_shell
Revises: 0007_tasks
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_shell'
down_revision = '0007_tasks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_issue_workspace_id_idempotency_key'), ['workspace_id', 'idempotency_key']
        )


def downgrade():
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_issue_workspace_id_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')
