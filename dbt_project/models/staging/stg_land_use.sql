{{ staged_feed('land_use', {'polygon_id': 'string', 'category': 'string', 'geometry_wkt': 'string'},
    cleaned={'category': 'lower(trim(category))'}) }}
