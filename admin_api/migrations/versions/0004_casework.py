"""casework: event severity, incidents with notes, the alert outbox, the DSL role

Revision ID: 0004_casework
Revises: 0003_trust
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_casework'
down_revision = '0003_trust'
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5000


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('user', sa.String(length=255), nullable=True),
    sa.Column('department', sa.String(length=128), nullable=True),
    sa.Column('first_event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee', sa.String(length=255), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('new', 'in_review', 'escalated', 'closed')", name=op.f('ck_incidents_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_index('ix_incidents_subject_last', 'incidents', ['subject', 'last_event_at'])
    op.create_index('ix_incidents_open', 'incidents', ['severity', 'last_event_at', 'id'],
                    postgresql_where=sa.text("status <> 'closed'"), sqlite_where=sa.text("status <> 'closed'"))
    op.create_index('ix_incidents_status_last', 'incidents', ['status', 'last_event_at'])

    op.create_table('incident_notes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_notes_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_notes'))
    )
    op.create_index('ix_incident_notes_incident_id', 'incident_notes', ['incident_id'])

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=512), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=512), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    op.create_index('ix_outbox_due', 'outbox', ['sent_at', 'next_attempt_at'])

    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('severity', sa.SmallInteger(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_events_incident_id_incidents'), 'incidents', ['incident_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index('ix_events_severity_time', ['severity', 'time'])
        batch.drop_index('ix_events_user_time')
        batch.create_index('ix_events_incident_id', ['incident_id'])
    # outside the batch: SQLite's table copy cannot carry an expression index
    op.create_index('ix_events_user_lower_time', 'events', [sa.text('lower("user")'), 'time'])

    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role'), "role IN ('dpo', 'dsl', 'it', 'viewer')")

    _backfill_severity()


def _backfill_severity() -> None:
    """Stored events get their severity (no incidents: casework starts with the events that arrive from now)."""
    from admin_api.severity import severity_of  # the one definition of the rule

    bind = op.get_bind()
    events = sa.table('events', sa.column('event_id', sa.Uuid()), sa.column('action', sa.String()),
                      sa.column('reasons', sa.JSON()), sa.column('severity', sa.SmallInteger()))
    entities = sa.table('event_entities', sa.column('event_id', sa.Uuid()), sa.column('entity', sa.String()))
    last = None
    while True:
        stmt = sa.select(events.c.event_id, events.c.action, events.c.reasons).where(
            sa.or_(events.c.action != 'allow', sa.cast(events.c.reasons, sa.String) != '[]'))
        if last is not None:
            stmt = stmt.where(events.c.event_id > last)
        rows = bind.execute(stmt.order_by(events.c.event_id).limit(BACKFILL_BATCH)).all()
        if not rows:
            return
        last = rows[-1].event_id
        found: dict = {}
        for event_id, entity in bind.execute(sa.select(entities.c.event_id, entities.c.entity)
                                             .where(entities.c.event_id.in_([r.event_id for r in rows]))):
            found.setdefault(event_id, {})[entity] = 1
        updates = [{"id": r.event_id, "sev": severity_of(r.action, r.reasons or [], found.get(r.event_id, {}))}
                   for r in rows]
        updates = [u for u in updates if u["sev"]]
        if updates:
            bind.execute(events.update().where(events.c.event_id == sa.bindparam("id"))
                         .values(severity=sa.bindparam("sev")), updates)


def downgrade() -> None:
    op.drop_index('ix_events_user_lower_time', table_name='events')
    op.execute("DELETE FROM users WHERE role = 'dsl'")
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role'), "role IN ('dpo', 'it', 'viewer')")
    with op.batch_alter_table('events') as batch:
        batch.drop_index('ix_events_incident_id')
        batch.drop_index('ix_events_severity_time')
        batch.create_index('ix_events_user_time', ['user', 'time'])
        batch.drop_constraint(op.f('fk_events_incident_id_incidents'), type_='foreignkey')
        batch.drop_column('incident_id')
        batch.drop_column('severity')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index('ix_incident_notes_incident_id', table_name='incident_notes')
    op.drop_table('incident_notes')
    op.drop_index('ix_incidents_status_last', table_name='incidents')
    op.drop_index('ix_incidents_open', table_name='incidents')
    op.drop_index('ix_incidents_subject_last', table_name='incidents')
    op.drop_table('incidents')
