{{ staged_feed('incidents', {
    'incident_id': 'string', 'occurred_at': 'timestamp', 'block': 'string', 'offence_code': 'string',
    'offence_name': 'string', 'offence_description': 'string', 'offence_group': 'string',
    'location_description': 'string', 'beat': 'string', 'district': 'string', 'x': 'float', 'y': 'float',
    'updated_at': 'timestamp',
}, cleaned={
    'block': 'trim(block)', 'offence_code': 'upper(trim(offence_code))', 'offence_name': 'upper(trim(offence_name))',
    'offence_description': 'upper(trim(offence_description))', 'offence_group': 'upper(trim(offence_group))',
    'location_description': 'upper(trim(location_description))',
}) }}
