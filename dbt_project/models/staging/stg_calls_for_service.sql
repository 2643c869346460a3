{{ staged_feed('calls_for_service', {
    'call_id': 'string', 'received_at': 'timestamp', 'call_type': 'string', 'priority': 'int', 'x': 'float', 'y': 'float',
}) }}
