{{ staged_feed('beats', {
    'vintage': 'string', 'beat': 'string', 'district': 'string', 'valid_from': 'timestamp', 'valid_to': 'timestamp',
    'geometry_wkt': 'string',
}) }}
