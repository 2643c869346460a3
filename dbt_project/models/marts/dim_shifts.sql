-- Every shift from the first incident or history start (the one running into that day included) to a horizon past the last data, with its calendar and the
-- conditions known at its start: the previous day's weather (the day's own is not yet observed) and the
-- scheduled events of the day.
{%- set hours = var('shift_start_hours') | sort %}

with bounds as (
    select
        min(cast(occurred_at as date)) as first_incident_day,
        coalesce({{ date_literal(var('history_start')) }}, min(cast(occurred_at as date))) as history_start,
        coalesce({{ date_literal(var('history_end')) }}, max(cast(occurred_at as date))) as last_history_day,
        max(cast(occurred_at as date)) as last_incident_day
    from {{ ref('stg_incidents') }}
),

-- Shifts start at the earlier of the first incident and the history start: incidents before the
-- training period still feed the windows of its first shifts.
spanned as (
    select
        case when first_incident_day < history_start then first_incident_day else history_start end as first_day,
        history_start, last_history_day, last_incident_day
    from bounds
),

days as (
    select
        cast({{ dbt.dateadd('day', '(numbers.generated_number - 2)', 'bounds.first_day') }} as date) as day,
        bounds.first_day,
        bounds.history_start,
        bounds.last_history_day
    from ({{ dbt.generate_series(40000) }}) as numbers
    cross join spanned as bounds
    where {{ dbt.dateadd('day', '(numbers.generated_number - 2)', 'bounds.first_day') }} <= {{ dbt.dateadd(
        'day', var('horizon_days'),
        'case when bounds.last_incident_day > bounds.last_history_day then bounds.last_incident_day'
        ~ ' else bounds.last_history_day end') }}
),

shift_hours as (
    {%- for h in hours %}
    select {{ h }} as start_hour, {{ loop.index0 }} as shift_of_day,
           {{ (hours[loop.index0 + 1] if not loop.last else hours[0] + 24) - h }} as hours
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),

-- Intervals in parentheses: dbt-spark's dateadd multiplies the interval into seconds as written.
shifts as (
    select
        cast({{ dbt.dateadd('hour', 'shift_hours.start_hour', 'days.day') }} as {{ dbt.type_timestamp() }}) as shift_start,
        cast({{ dbt.dateadd('hour', '(shift_hours.start_hour + shift_hours.hours)', 'days.day') }}
            as {{ dbt.type_timestamp() }}) as shift_end,
        days.day,
        shift_hours.shift_of_day,
        days.day >= days.history_start and days.day <= days.last_history_day as is_history,
        days.first_day
    from days
    cross join shift_hours
),

weather as (
    select
        date as day,
        avg(precipitation) as precipitation,
        avg(snowfall) as snowfall,
        avg(temperature_max) as temperature_max
    from {{ ref('stg_weather_daily') }}
    group by date
),

events as (
    select cast(starts_at as date) as day, count(*) as events_that_day
    from {{ ref('stg_sports_events') }}
    group by cast(starts_at as date)
),

holidays as (
    select cast(date as date) as day, min(holiday) as holiday
    from {{ source('raw', 'holidays') }}
    group by cast(date as date)
)

select
    shifts.shift_start,
    shifts.shift_end,
    {{ shift_number('shifts.shift_start') }} as shift_number,
    names.shift_name,
    shifts.shift_of_day,
    shifts.day as shift_date,
    -- 0 = Monday (1970-01-05 was a Monday); portable where date_part('dow') is not.
    mod({{ dbt.datediff("cast('1970-01-05' as date)", 'shifts.day', 'day') }}, 7) as day_of_week,
    extract(month from shifts.day) as month,
    holidays.day is not null as is_holiday,
    holidays.holiday,
    weather.precipitation,
    weather.snowfall,
    weather.temperature_max,
    coalesce(events.events_that_day, 0) as events_that_day,
    shifts.is_history
from shifts
left join {{ source('raw', 'shifts') }} as names
    on names.start_hour = extract(hour from shifts.shift_start)
left join holidays on holidays.day = shifts.day
left join weather on weather.day = cast({{ dbt.dateadd('day', -1, 'shifts.day') }} as date)
left join events on events.day = shifts.day
-- The day before the history start contributes its last shift, which runs into the first day.
where shifts.shift_end > shifts.first_day
