-- Scoring rows: every cell and modelled crime type for each shift in raw.scoring_shifts, with the same
-- features as fct_training_set. A view: the scoring code writes the shifts, then selects.
{{ config(materialized='view') }}

{% set requests %}
select crime_types.crime_type, cells.cell_id, scoring.shift_start
from {{ source('raw', 'scoring_shifts') }} as scoring
cross join {{ ref('dim_cells') }} as cells
cross join {{ source('raw', 'crime_types') }} as crime_types
{% endset %}

{{ shift_features(requests) }}
