"""Contact sales: the inquiries of the public contact-sales form.

Revision ID: 0006_contact_sales
Revises: 0005_feedback
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0006_contact_sales'
down_revision = '0005_feedback'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_sales_inquiry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('business_email', sa.String(length=254), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=False),
    sa.Column('company_size', sa.String(length=16), nullable=False),
    sa.Column('country_region', sa.String(length=80), nullable=False),
    sa.Column('use_case', sa.String(length=32), nullable=False),
    sa.Column('goals', sa.Text(), server_default='', nullable=False),
    sa.Column('consent_outreach', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('consent_updates', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('source', sa.String(length=80), server_default='page', nullable=False),
    sa.Column('submitter_ip', sa.String(length=45).with_variant(postgresql.INET(), 'postgresql'), nullable=True),
    sa.Column('user_agent', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_sales_inquiry'))
    )
    with op.batch_alter_table('contact_sales_inquiry', schema=None) as batch_op:
        batch_op.create_index('ix_contact_sales_inquiry_business_email_created_at', ['business_email', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('contact_sales_inquiry', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_sales_inquiry_business_email_created_at')

    op.drop_table('contact_sales_inquiry')
