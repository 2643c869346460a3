-- Each incident in a cell of the jurisdiction, with the shift it fell in and the crime type it maps into
-- (null when the agency does not model it), or else the signal offence it is (raw.signal_offences: counted
-- as features, never modelled). Incidents outside raw.cells were quarantined by the ingest.
-- Incremental: a refresh recomputes the incidents of the lookback days (macros/refresh.sql).
{{ config(
    materialized='incremental',
    unique_key='shift_date',
    incremental_strategy=refresh_strategy(),
    partition_by=refresh_partition(),
) }}
{%- set size = var('cell_size') %}

with incidents as (
    select
        *,
        cast(floor(x / {{ size }}) as {{ dbt.type_int() }}) as cell_col,
        cast(floor(y / {{ size }}) as {{ dbt.type_int() }}) as cell_row
    from {{ ref('stg_incidents') }}
    where occurred_at is not null
    {%- if is_incremental() %}
        -- a shift starts before its incidents: this keeps every incident of the recomputed days
        and occurred_at >= {{ refresh_cutoff() }}
    {%- endif %}
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

-- The matching rule as data (beatwise.policy.offence_rules, held equal to Python's match_crime_types by
-- tests/dbt/test_crime_type_matching.py): an incident meets a rule when each of the rule's accepted
-- fields holds one of its values (negated = 0) and no excluded field does (negated = 1); case-insensitive.
-- Signal offences follow the same rule with kind 1, ranked after every crime type.
conditions as (
    select o.crime_type, 0 as kind, o.rule_number, o.field, upper(trim(o.value)) as value, o.negated, t.severity
    from {{ source('raw', 'crime_type_offences') }} as o
    inner join crime_types as t on t.crime_type = o.crime_type
    union all
    select crime_type, 1, rule_number, field, upper(trim(value)), negated, 0
    from {{ source('raw', 'signal_offences') }}
),

rules as (
    select crime_type, kind, rule_number, severity,
           count(distinct case when negated = 0 then field end) as fields_required
    from conditions
    group by crime_type, kind, rule_number, severity
),

incident_values as (
    {%- for field in ['offence_code', 'offence_name', 'offence_description', 'offence_group', 'location_description'] %}
    select incident_id, '{{ field }}' as field, upper(trim({{ field }})) as value from incidents
    where {{ field }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

rule_hits as (
    select
        v.incident_id, c.crime_type, c.kind, c.rule_number,
        count(distinct case when c.negated = 0 then c.field end) as fields_met,
        sum(c.negated) as exclusions
    from incident_values as v
    inner join conditions as c on c.field = v.field and c.value = v.value
    group by v.incident_id, c.crime_type, c.kind, c.rule_number
),

matches as (
    select distinct h.incident_id, h.crime_type, h.kind, r.severity
    from rule_hits as h
    inner join rules as r
        on r.crime_type = h.crime_type and r.kind = h.kind and r.rule_number = h.rule_number
    where h.fields_met = r.fields_required and h.exclusions = 0
),

-- An incident matched by two crime types counts as the more severe one (then the first by name); one
-- that no crime type claims is the first signal offence by name that matches it.
ranked as (
    select
        incident_id,
        crime_type,
        kind,
        row_number() over (partition by incident_id order by kind, severity desc, crime_type) as rank_in_incident
    from matches
),

rows_out as (
    select
        located.incident_id,
        located.occurred_at,
        {{ shift_start_of('located.occurred_at') }} as shift_start,
        case when ranked.kind = 0 then ranked.crime_type end as crime_type,
        case when ranked.kind = 1 then ranked.crime_type end as signal_offence,
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
        located.y,
        cast({{ shift_start_of('located.occurred_at') }} as date) as shift_date
    from located
    inner join {{ source('raw', 'cells') }} as cells on cells.cell_id = located.cell_id
    left join ranked on ranked.incident_id = located.incident_id and ranked.rank_in_incident = 1
)

select * from rows_out
{%- if is_incremental() %}
where shift_date >= {{ refresh_cutoff() }}
{%- endif %}
