{{ staged_feed('sports_events', {'event_id': 'string', 'venue': 'string', 'starts_at': 'timestamp', 'league': 'string'}) }}
