{{ staged_feed('patrol_activity', {
    'activity_id': 'string', 'unit_id': 'string', 'officer_id': 'string', 'mission_id': 'string',
    'started_at': 'timestamp', 'ended_at': 'timestamp', 'tactic': 'string',
}) }}
