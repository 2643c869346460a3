{#-
  Incremental refresh of the incident-driven models (int_incidents, int_feed_signals, fct_cell_shift_counts).
  A refresh recomputes every row whose shift day is on or after refresh_cutoff(): var('refresh_lookback_days')
  days before the newest shift day already built, so late and corrected records within the lookback are
  picked up. Whole days, so each recomputed day is complete: Spark (Parquet, no MERGE) overwrites the
  day partitions the refresh produced; other engines delete every row of those days and insert the new ones
  (unique_key='shift_date' with delete+insert), so a row that a correction removed does not linger either.
  Anything older than the lookback (or a change of cells or crime-type rules) needs a full refresh, which
  the pipeline's main job runs. An empty model recomputes everything.
-#}

{% macro refresh_cutoff() -%}
(select cast({{ dbt.dateadd('day', -(var('refresh_lookback_days') | int), "coalesce(max(shift_date), cast('1900-01-01' as date))") }} as date)
 from {{ this }})
{%- endmacro %}


{% macro refresh_strategy() -%}
{%- do return('insert_overwrite' if target.type == 'spark' else 'delete+insert') -%}
{%- endmacro %}


{% macro refresh_partition() -%}
{%- do return(['shift_date'] if target.type == 'spark' else none) -%}
{%- endmacro %}
