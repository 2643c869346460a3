-- The jurisdiction grid with each cell's environment; cell_number (0..n-1) indexes cells for sampling.
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
    coalesce(env.liquor_premises_in_cell, 0) as liquor_premises_in_cell,
    coalesce(env.liquor_premises_within_1000ft, 0) as liquor_premises_within_1000ft,
    env.distance_to_liquor,
    coalesce(env.residential_share, 0) as residential_share,
    coalesce(env.commercial_share, 0) as commercial_share,
    coalesce(env.recreational_share, 0) as recreational_share,
    env.distance_to_venue
from {{ source('raw', 'cells') }} as cells
left join {{ source('raw', 'cell_environment') }} as env on env.cell_id = cells.cell_id
