"""The operations assets are wired into the one code location: the replay feeds the dosage marts, which
feed the impact estimate, and the main job resolves (the dbt asset is split around the replay)."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs


def test_replay_feeds_the_dosage_marts_which_feed_impact():
    graph = defs.resolve_asset_graph()
    simulated = dg.AssetKey(["operations", "simulated_shifts"])
    assert simulated in graph.get(dg.AssetKey(["intermediate", "int_simulated_shifts"])).parent_keys
    assert dg.AssetKey(["plans", "missions"]) in graph.get(simulated).parent_keys
    assert (
        dg.AssetKey(["plans", "missions"])
        in graph.get(dg.AssetKey(["intermediate", "int_missions"])).parent_keys
    )
    assert (
        dg.AssetKey(["marts", "fct_mission_dosage"])
        in graph.get(dg.AssetKey(["marts", "rpt_impact"])).parent_keys
    )
    assert defs.resolve_job_def("main") is not None
