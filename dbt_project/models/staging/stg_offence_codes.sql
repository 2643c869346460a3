{{ staged_feed('offence_codes', {
    'offence_code': 'string', 'offence_name': 'string', 'offence_description': 'string', 'index_code': 'string',
}, cleaned={'offence_code': 'upper(trim(offence_code))', 'offence_name': 'upper(trim(offence_name))'}) }}
