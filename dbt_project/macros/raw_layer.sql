{#-
  Where the sources are. On DuckDB the raw layer is in the warehouse itself. On Spark it is the Parquet
  export of beatwise.raw_layer (env BEATWISE_RAW_PARQUET: the folder with tables.jsonl): each file is
  registered as an external table of its schema before anything builds. Without the variable, Spark
  expects the sources in its catalog already (a lakehouse whose ingest writes them there).
-#}
{% macro register_raw_layer() -%}
    {{ return(adapter.dispatch('register_raw_layer')()) }}
{%- endmacro %}

{% macro default__register_raw_layer() -%}
{%- endmacro %}

{% macro spark__register_raw_layer() -%}
    {%- set folder = env_var('BEATWISE_RAW_PARQUET', '') | trim -%}
    {%- if execute and folder -%}
        {%- set index = run_query("select `schema`, `table`, path from json.`" ~ folder ~ "/tables.jsonl`") -%}
        {%- for entry in index.rows -%}
            {%- do run_query("create schema if not exists " ~ entry[0]) -%}
            {%- do run_query("drop table if exists " ~ entry[0] ~ "." ~ entry[1]) -%}
            {%- do run_query("create table " ~ entry[0] ~ "." ~ entry[1] ~ " using parquet location '"
                             ~ folder ~ "/" ~ entry[2] ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#-
  The marts as Parquet, for readers outside the engine (the Python models of a deployment whose warehouse
  is Spark; the parity test). With env BEATWISE_MARTS_PARQUET set, every mart this run built (tables and
  views of the marts schema) is written to <folder>/<mart>/ as one or more Parquet files, replacing what
  was there. Runs at the end of the run (on-run-end).
-#}
{% macro export_marts(results) -%}
    {%- set folder = env_var('BEATWISE_MARTS_PARQUET', '') | trim -%}
    {%- if execute and folder -%}
        {%- for result in results
              if result.node.resource_type == 'model' and result.node.schema == 'marts'
              and result.status == 'success' -%}
            {%- set relation = api.Relation.create(database=result.node.database, schema=result.node.schema,
                                                   identifier=result.node.alias) -%}
            {%- do run_query(adapter.dispatch('write_parquet')(relation, folder ~ '/' ~ result.node.alias)) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro default__write_parquet(relation, folder) -%}
    copy (select * from {{ relation }}) to '{{ folder }}' (format parquet, per_thread_output true, overwrite true)
{%- endmacro %}

{% macro spark__write_parquet(relation, folder) -%}
    insert overwrite directory '{{ folder }}' using parquet select * from {{ relation }}
{%- endmacro %}
