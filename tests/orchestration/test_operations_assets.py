"""The operations assets are wired into the one code location: the demo's replay feeds the dosage marts, which
feed the impact estimate, and the serving snapshot is published after every table it serves."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs


def test_replay_feeds_the_dosage_marts_which_feed_impact():
    graph = defs.resolve_asset_graph()
    simulated = dg.AssetKey(["operations", "simulated_shifts"])
    assert simulated in graph.get(dg.AssetKey(["intermediate", "int_simulated_shifts"])).parent_keys
    # the demo's replay runs before the next shift is planned
    assert simulated in graph.get(dg.AssetKey(["plans", "missions"])).parent_keys
    assert (
        dg.AssetKey(["plans", "missions"])
        in graph.get(dg.AssetKey(["intermediate", "int_missions"])).parent_keys
    )
    assert (
        dg.AssetKey(["marts", "fct_mission_dosage"])
        in graph.get(dg.AssetKey(["marts", "rpt_impact"])).parent_keys
    )


def test_the_snapshot_is_published_after_the_impact_estimate_and_every_report_mart():
    graph = defs.resolve_asset_graph()
    before_snapshot = graph.get(dg.AssetKey(["serving", "snapshot"])).parent_keys
    reports = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts" and k.path[-1].startswith("rpt_")}
    assert dg.AssetKey(["marts", "rpt_impact"]) in reports
    assert {dg.AssetKey(["marts", "rpt_shift"]), dg.AssetKey(["marts", "rpt_officer"])} <= reports
    assert reports <= before_snapshot, reports - before_snapshot
