"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# Matches admin_api.models.JSONType; datetimes are stored UTC (models.UTCDateTime is a DateTime(timezone=True)).
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=False),
    sa.Column('detail', JSON_TYPE, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_time', 'audit_log', ['time'])

    op.create_table('daily_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('tool', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=128), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'action', 'tool', 'profile', 'department', name=op.f('pk_daily_counts'))
    )
    op.create_index('ix_daily_counts_tool_day', 'daily_counts', ['tool', 'day'])

    op.create_table('daily_entity_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('tool', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=128), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'entity', 'action', 'tool', 'profile', 'department', name=op.f('pk_daily_entity_counts'))
    )
    op.create_index('ix_daily_entity_counts_entity_day', 'daily_entity_counts', ['entity', 'day'])

    op.create_table('daily_totals',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'dimension', 'key', 'action', name=op.f('pk_daily_totals'))
    )
    op.create_table('events',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proxy_id', sa.String(length=128), nullable=False),
    sa.Column('client_addr', sa.String(length=64), nullable=False),
    sa.Column('user', sa.String(length=255), nullable=True),
    sa.Column('profile', sa.String(length=64), nullable=True),
    sa.Column('department', sa.String(length=128), nullable=True),
    sa.Column('tool', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('path', sa.String(length=2048), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reasons', JSON_TYPE, nullable=False),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.Column('analysis_ms', sa.Float(), nullable=False),
    sa.CheckConstraint("action IN ('allow', 'redact', 'block')", name=op.f('ck_events_action')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_events'))
    )
    op.create_index('ix_events_action_time', 'events', ['action', 'time'])
    op.create_index('ix_events_time', 'events', ['time', 'event_id'])
    op.create_index('ix_events_tool_time', 'events', ['tool', 'time'])
    op.create_index('ix_events_user_time', 'events', ['user', 'time'])

    op.create_table('proxies',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_addr', sa.String(length=64), nullable=True),
    sa.Column('last_seen_version', sa.String(length=64), nullable=True),
    sa.Column('events_received', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxies')),
    sa.UniqueConstraint('name', name=op.f('uq_proxies_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_proxies_token_hash'))
    )
    op.create_table('purges',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cutoff', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purges'))
    )
    op.create_table('roster_uploads',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=255), nullable=False),
    sa.Column('etag', sa.String(length=64), nullable=False),
    sa.Column('pupils', sa.Integer(), nullable=False),
    sa.Column('name_forms', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_uploads'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('oidc_issuer', sa.String(length=512), nullable=True),
    sa.Column('oidc_subject', sa.String(length=255), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('dpo', 'it', 'viewer')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('oidc_issuer', 'oidc_subject', name='uq_users_oidc'),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('event_entities',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.event_id'], name=op.f('fk_event_entities_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'entity', name=op.f('pk_event_entities'))
    )
    op.create_index('ix_event_entities_entity', 'event_entities', ['entity', 'event_id'])

    op.create_table('event_pupils',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('pupil_ref', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.event_id'], name=op.f('fk_event_pupils_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'pupil_ref', name=op.f('pk_event_pupils'))
    )
    op.create_index('ix_event_pupils_pupil_ref', 'event_pupils', ['pupil_ref'])



def downgrade() -> None:
    op.drop_index('ix_event_pupils_pupil_ref', table_name='event_pupils')

    op.drop_table('event_pupils')
    op.drop_index('ix_event_entities_entity', table_name='event_entities')

    op.drop_table('event_entities')
    op.drop_table('users')
    op.drop_table('settings')
    op.drop_table('roster_uploads')
    op.drop_table('purges')
    op.drop_table('proxies')
    op.drop_index('ix_events_user_time', table_name='events')
    op.drop_index('ix_events_tool_time', table_name='events')
    op.drop_index('ix_events_time', table_name='events')
    op.drop_index('ix_events_action_time', table_name='events')

    op.drop_table('events')
    op.drop_table('daily_totals')
    op.drop_index('ix_daily_entity_counts_entity_day', table_name='daily_entity_counts')

    op.drop_table('daily_entity_counts')
    op.drop_index('ix_daily_counts_tool_day', table_name='daily_counts')

    op.drop_table('daily_counts')
    op.drop_index('ix_audit_log_time', table_name='audit_log')

    op.drop_table('audit_log')
