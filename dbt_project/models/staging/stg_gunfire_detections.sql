{{ staged_feed('gunfire_detections', {
    'detection_id': 'string', 'detected_at': 'timestamp', 'rounds': 'int', 'x': 'float', 'y': 'float',
}) }}
