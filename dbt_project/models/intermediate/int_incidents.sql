-- Each incident in a cell of the jurisdiction, with the shift it fell in and the crime type it maps into
-- (null when the agency does not model it). Incidents outside raw.cells were quarantined by the ingest.
{%- set size = var('cell_size') %}

with incidents as (
    select
        *,
        cast(floor(x / {{ size }}) as {{ dbt.type_int() }}) as cell_col,
        cast(floor(y / {{ size }}) as {{ dbt.type_int() }}) as cell_row
    from {{ ref('stg_incidents') }}
    where occurred_at is not null
),

located as (
    select
        incidents.*,
        {{ dbt.concat([dbt.cast('incidents.cell_col', dbt.type_string()), "'_'",
                       dbt.cast('incidents.cell_row', dbt.type_string())]) }} as cell_id
    from incidents
),

crime_types as (
    select crime_type, severity from {{ source('raw', 'crime_types') }} where source = 'incidents'
),

offences as (
    select o.crime_type, o.field, upper(trim(o.value)) as value, t.severity
    from {{ source('raw', 'crime_type_offences') }} as o
    inner join crime_types as t on t.crime_type = o.crime_type
),

matches as (
    {%- for field in ['offence_code', 'offence_name', 'offence_group'] %}
    select i.incident_id, o.crime_type, o.severity
    from incidents as i
    inner join offences as o on o.field = '{{ field }}' and o.value = i.{{ field }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- An incident matched by two crime types counts as the more severe one (then the first by name).
ranked as (
    select
        incident_id,
        crime_type,
        row_number() over (partition by incident_id order by severity desc, crime_type) as rank_in_incident
    from matches
)

select
    located.incident_id,
    located.occurred_at,
    {{ shift_start_of('located.occurred_at') }} as shift_start,
    ranked.crime_type,
    located.cell_id,
    located.cell_col,
    located.cell_row,
    coalesce(located.district, cells.district) as district,
    coalesce(located.beat, cells.beat) as beat,
    located.block,
    located.offence_code,
    located.offence_name,
    located.offence_description,
    located.offence_group,
    located.location_description,
    located.x,
    located.y
from located
inner join {{ source('raw', 'cells') }} as cells on cells.cell_id = located.cell_id
left join ranked on ranked.incident_id = located.incident_id and ranked.rank_in_incident = 1
