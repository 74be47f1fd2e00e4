"""security_alerts (integrity and protection alerts for the DPO) and pending_changes (second approver)

Revision ID: 0003_trust
Revises: 0002
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# As in 0001: admin_api.models.JSON_TYPE, and UTC datetimes (models.UTCDateTime is a DateTime(timezone=True)).
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0003_trust'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'security_alerts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.Column('source', sa.String(length=255), nullable=False),
        sa.Column('detail', JSON_TYPE, nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_security_alerts')),
    )
    op.create_index('ix_security_alerts_open', 'security_alerts', ['acknowledged_at', 'time'])
    op.create_table(
        'pending_changes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('requested_by', sa.String(length=255), nullable=False),
        sa.Column('setting', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=True),
        sa.Column('weakens', JSON_TYPE, nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=255), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f('ck_pending_changes_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_changes')),
    )


def downgrade() -> None:
    op.drop_table('pending_changes')
    op.drop_index('ix_security_alerts_open', table_name='security_alerts')
    op.drop_table('security_alerts')
