{{ staged_feed('liquor_premises', {'premise_id': 'string', 'address': 'string', 'x': 'float', 'y': 'float'}) }}
