{{ staged_feed('weather_daily', {
    'station': 'string', 'date': 'date', 'precipitation': 'float', 'snowfall': 'float', 'temperature_max': 'float',
    'temperature_min': 'float', 'wind_speed': 'float',
}) }}
