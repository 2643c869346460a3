-- The jurisdiction grid with each cell's environment; cell_number (0..n-1) indexes cells for sampling.
-- The environment columns are raw.cell_environment's (see macros/environment.sql); NULL where the agency
-- has no such feed.
select
    cells.cell_id,
    cells.cell_col,
    cells.cell_row,
    -- a bigint everywhere (Spark's row_number is an int): the sampling hash multiplies it by large primes
    cast(row_number() over (order by cells.cell_id) - 1 as {{ dbt.type_bigint() }}) as cell_number,
    cells.x_min,
    cells.y_min,
    cells.x_max,
    cells.y_max,
    cells.x_center,
    cells.y_center,
    cells.district,
    cells.beat,
    cells.area_share,
    {%- for column in environment_columns() %}
    env.{{ column }},
    {%- endfor %}
    -- text like every id; a jurisdiction without neighbourhoods writes an untyped column of nulls
    cast(cells.neighbourhood as {{ dbt.type_string() }}) as neighbourhood
from {{ source('raw', 'cells') }} as cells
left join {{ source('raw', 'cell_environment') }} as env on env.cell_id = cells.cell_id
