{{ staged_feed('districts', {'district': 'string', 'district_label': 'string', 'geometry_wkt': 'string'}) }}
