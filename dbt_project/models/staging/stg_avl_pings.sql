{{ staged_feed('avl_pings', {'unit_id': 'string', 'pinged_at': 'timestamp', 'x': 'float', 'y': 'float'}) }}
