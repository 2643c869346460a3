{{ staged_feed('venues', {'venue_id': 'string', 'venue': 'string', 'x': 'float', 'y': 'float'}) }}
