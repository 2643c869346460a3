-- A human place name for every cell, from the agency's own data: the block addresses its incidents carry
-- most often ("near 012XX W MADISON ST"), else its neighbourhood, else its beat and district. An agency
-- whose export has no addresses (the foreign city) gets the names of its own areas.
with block_counts as (
    select cell_id, block, count(*) as incidents
    from {{ ref('int_incidents') }}
    where block is not null and trim(block) <> ''
    group by cell_id, block
),

ranked as (
    select
        cell_id,
        block,
        incidents,
        row_number() over (partition by cell_id order by incidents desc, block) as block_rank
    from block_counts
),

top_blocks as (
    select
        cell_id,
        max(case when block_rank = 1 then block end) as first_block,
        max(case when block_rank = 2 then block end) as second_block,
        max(case when block_rank = 3 then block end) as third_block
    from ranked
    where block_rank <= 3
    group by cell_id
),

districts as (
    select district, max(district_label) as district_label
    from {{ ref('stg_districts') }}
    group by district
)

select
    cells.cell_id,
    cells.district,
    districts.district_label,
    cells.beat,
    cells.neighbourhood,
    top_blocks.first_block as main_block,
    -- the cell's three most frequent blocks, most frequent first ("; " between them)
    {{ dbt.concat(["coalesce(top_blocks.first_block, '')",
                   "case when top_blocks.second_block is not null then " ~ dbt.concat(["'; '", "top_blocks.second_block"]) ~ " else '' end",
                   "case when top_blocks.third_block is not null then " ~ dbt.concat(["'; '", "top_blocks.third_block"]) ~ " else '' end"]) }}
        as blocks,
    case
        when top_blocks.first_block is not null then {{ dbt.concat(["'near '", "top_blocks.first_block"]) }}
        when cells.neighbourhood is not null then cells.neighbourhood
        when cells.beat is not null then {{ dbt.concat(["'beat '", "cells.beat", "', district '", "cells.district"]) }}
        when cells.district is not null then {{ dbt.concat(["'district '", "cells.district"]) }}
        else {{ dbt.concat(["'cell '", "cells.cell_id"]) }}
    end as place_name
from {{ ref('dim_cells') }} as cells
left join top_blocks on top_blocks.cell_id = cells.cell_id
left join districts on districts.district = cells.district
