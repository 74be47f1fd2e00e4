"""severity in the all-dimension daily roll-ups (daily_counts, daily_entity_counts): dashboards filtered on tool,
profile, department, severity or data type are answered from them alone

The roll-ups are counts derived from the events: both tables are made again with the new key and refilled from the
events (the same counts the service's rollups.rebuild makes).

Revision ID: 0005_rollup_severity
Revises: 0004_casework
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_rollup_severity'
down_revision = '0004_casework'
branch_labels = None
depends_on = None

BREAKDOWN = ('action', 'tool', 'profile', 'department')


def upgrade() -> None:
    _remake(with_severity=True)


def downgrade() -> None:
    _remake(with_severity=False)


def _remake(with_severity: bool) -> None:
    for table in ('daily_counts', 'daily_entity_counts'):
        op.drop_index(f'ix_{table}_{"tool" if table == "daily_counts" else "entity"}_day', table_name=table)
        op.drop_table(table)
    keys = [*BREAKDOWN, 'severity'] if with_severity else list(BREAKDOWN)
    counts = _create('daily_counts', ['day', *keys])
    op.create_index('ix_daily_counts_tool_day', 'daily_counts', ['tool', 'day'])
    entity_counts = _create('daily_entity_counts', ['day', 'entity', *keys])
    op.create_index('ix_daily_entity_counts_entity_day', 'daily_entity_counts', ['entity', 'day'])
    _fill(counts, entity_counts, keys)


COLUMN_TYPES = {'day': sa.Date(), 'entity': sa.String(length=64), 'action': sa.String(length=16),
                'tool': sa.String(length=64), 'profile': sa.String(length=64), 'department': sa.String(length=128),
                'severity': sa.SmallInteger()}


def _create(name: str, key: list[str]) -> sa.Table:
    return op.create_table(
        name,
        *(sa.Column(column, COLUMN_TYPES[column], nullable=False) for column in key),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name=op.f(f'pk_{name}')),
    )


def _fill(counts: sa.Table, entity_counts: sa.Table, keys: list[str]) -> None:
    events = sa.table('events', *(sa.column(c) for c in ('event_id', 'time', *BREAKDOWN, 'severity')))
    entities = sa.table('event_entities', sa.column('event_id'), sa.column('entity'))
    if op.get_bind().dialect.name == 'postgresql':
        day = sa.cast(sa.func.timezone('UTC', events.c.time), sa.Date)  # a UTC day, whatever the session's zone
    else:
        day = sa.func.date(events.c.time)  # stored as UTC text
    # "" stands for a missing profile or department in the roll-up keys
    values = {'action': events.c.action, 'tool': events.c.tool, 'severity': events.c.severity,
              'profile': sa.func.coalesce(events.c.profile, ''),
              'department': sa.func.coalesce(events.c.department, '')}
    group = [day, *(values[k] for k in keys)]
    op.execute(counts.insert().from_select(['day', *keys, 'events'],
                                           sa.select(*group, sa.func.count()).group_by(*group)))
    group = [day, entities.c.entity, *(values[k] for k in keys)]
    op.execute(entity_counts.insert().from_select(
        ['day', 'entity', *keys, 'events'],
        sa.select(*group, sa.func.count()).select_from(
            entities.join(events, events.c.event_id == entities.c.event_id)).group_by(*group)))
