"""Caps, strata and capacity always hold; bad input is refused with a clear message."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from beatwise.config.schema import Exposure
from models.planning import PlanningError
from models.planning.plan import make_plan, planning_inputs
from models.planning.priority import cell_priority
from models.planning.selection import design_selection, mission_capacity, redraw_one, select_missions

SHIFT = datetime(2016, 12, 1, 14)


def city(seed: int, districts: int = 3, cells: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = districts * cells
    return pd.DataFrame(
        {
            "cell_id": [f"{i}_{seed}" for i in range(n)],
            "district": [str(i % districts) for i in range(n)],
            "beat": "0101",
            "priority": rng.pareto(1.2, n) * (rng.random(n) < 0.5),
        }
    )


@pytest.mark.parametrize("seed", range(25))
def test_caps_and_capacity_always_hold(seed):
    rng = np.random.default_rng(seed)
    priority = city(seed)
    exposure = Exposure(
        max_missions_per_cell=int(rng.integers(1, 4)),
        candidate_pool_size=int(rng.integers(5, 60)),
        top_cells_share=float(rng.uniform(0.01, 0.1)),
        top_cells_max_mission_share=float(rng.uniform(0.1, 0.9)),
        low_risk_reserved_share=float(rng.uniform(0, 0.5)),
    )
    recent = pd.Series(rng.integers(0, 4, len(priority)), index=priority["cell_id"])
    capacity = {d: int(rng.integers(0, 13)) for d in ("0", "1", "2")}
    capacity["0"] = max(capacity["0"], 1)
    selection = select_missions(priority, capacity, recent, exposure, seed)
    c = selection.candidates
    assert not c.loc[~c["eligible"], "selected"].any()  # the exposure cap holds
    assert (c.loc[~c["eligible"], "inclusion_probability"] == 0).all()
    assert c["eligible"].equals(
        pd.Series(recent.reindex(c["cell_id"]).to_numpy() < exposure.max_missions_per_cell)
    )
    for district, group in c.groupby("district"):
        n = capacity[district]
        drawn = int(group["selected"].sum())
        assert drawn <= n  # capacity
        assert drawn == pytest.approx(group["inclusion_probability"].sum())  # fixed size, probabilities exact
        assert group.loc[group["stratum"] == "top", "selected"].sum() <= math.floor(
            exposure.top_cells_max_mission_share * n
        )  # the top-cells cap
        pool = group["stratum"].isin(["top", "high"])
        assert pool.sum() <= max(exposure.candidate_pool_size, (group["stratum"] == "top").sum())
        if drawn < n:
            assert any(f"district {district}" in w for w in selection.warnings)


def test_low_risk_share_is_reserved():
    priority = city(3, districts=1, cells=400)
    exposure = Exposure(low_risk_reserved_share=0.25, candidate_pool_size=30)
    c = select_missions(priority, {"0": 8}, pd.Series(dtype=float), exposure, 1).candidates
    assert c.loc[c["stratum"] == "low", "selected"].sum() == 2
    low = c.loc[c["stratum"] == "low", "inclusion_probability"]
    assert np.allclose(low, 2 / len(low))  # every lower-risk cell has the same chance
    assert c.loc[c["stratum"] == "low", "priority"].max() <= c.loc[c["stratum"] == "high", "priority"].min()


def test_top_cells_take_at_most_their_share_even_when_risk_is_concentrated():
    priority = city(4, districts=1, cells=200)
    priority.loc[:3, "priority"] = 1e6  # the top 2% hold almost all the risk
    exposure = Exposure(top_cells_share=0.02, top_cells_max_mission_share=0.5)
    design = design_selection(priority, {"0": 6}, pd.Series(dtype=float), exposure)
    top = design.candidates["stratum"] == "top"
    assert design.candidates.loc[top, "inclusion_probability"].sum() == pytest.approx(3)
    for seed in range(200):
        assert design.draw(seed)[top.to_numpy()].sum() <= 3


def test_same_seed_same_draw_other_seed_other_draw():
    priority = city(5)
    args = (priority, {"0": 6, "1": 6, "2": 6}, pd.Series(dtype=float), Exposure())
    a, b, c = (select_missions(*args, seed=s).candidates["selected"] for s in (1, 1, 2))
    assert a.equals(b) and not a.equals(c)


def test_zero_capacity_is_refused(sample_config):
    with pytest.raises(PlanningError, match="zero capacity"):
        select_missions(city(6), {"0": 0, "1": 0, "2": 0}, pd.Series(dtype=float), Exposure(), 1)


def test_every_cell_capped_is_refused():
    priority = city(7)
    recent = pd.Series(3, index=priority["cell_id"])
    with pytest.raises(PlanningError, match="every cell is capped"):
        select_missions(priority, {"0": 4, "1": 4, "2": 4}, recent, Exposure(max_missions_per_cell=3), 1)


def test_district_without_eligible_cells_is_named():
    priority = city(8)
    recent = pd.Series(5, index=priority.loc[priority["district"] == "1", "cell_id"])
    with pytest.raises(PlanningError, match="district 1 has no eligible cells"):
        select_missions(priority, {"0": 4, "1": 4, "2": 4}, recent, Exposure(), 1)


def test_capacity_comes_from_units_per_district_and_shift(sample_config):
    config = sample_config.model_copy(
        update={
            "capacity": sample_config.capacity.model_copy(
                update={"per_district": {"11": 1}, "per_shift": {"night": 2}}
            )
        }
    )
    assert mission_capacity(config, ["10", "11"], "day") == {"10": 8, "11": 2}
    assert mission_capacity(config, ["10", "11"], "night") == {"10": 4, "11": 2}


def test_priority_weights_severity_priority_and_district(sample_config):
    config = sample_config.model_copy(update={"district_priorities": {"10": {"theft": 3.0}}})
    risk = pd.DataFrame(
        {
            "cell_id": ["a", "a", "b"],
            "crime_type": ["theft", "homicide", "theft"],
            "expected_count": [0.5, 0.1, 0.5],
        }
    )
    cells = pd.DataFrame({"cell_id": ["a", "b"], "district": ["10", "11"], "beat": ["1011", "1111"]})
    p = cell_priority(risk, cells, config).set_index("cell_id")
    theft, homicide = config.crime_types["theft"], config.crime_types["homicide"]
    assert p.loc["a", "priority"] == pytest.approx(0.5 * theft.severity * 3.0 + 0.1 * homicide.severity)
    assert p.loc["b", "priority"] == pytest.approx(0.5 * theft.severity)


def test_risk_without_modelled_crime_types_is_refused(sample_config):
    risk = pd.DataFrame({"cell_id": ["a"], "crime_type": ["narcotics"], "expected_count": [1.0]})
    cells = pd.DataFrame({"cell_id": ["a"], "district": ["10"], "beat": ["1011"]})
    with pytest.raises(PlanningError, match="none of the modelled crime types"):
        cell_priority(risk, cells, sample_config)


def test_a_time_that_is_not_a_shift_start_is_refused(sample_config):
    risk = pd.DataFrame({"cell_id": ["a"], "crime_type": ["theft"], "expected_count": [1.0]})
    cells = pd.DataFrame({"cell_id": ["a"], "district": ["10"], "beat": ["1011"]})
    inputs = planning_inputs(risk, cells, pd.Series(dtype=float))
    with pytest.raises(PlanningError, match="not the start of a configured shift"):
        make_plan(inputs, sample_config, datetime(2016, 12, 1, 15))


def test_redraw_takes_one_cell_of_the_same_stratum():
    design = select_missions(city(9, districts=1), {"0": 6}, pd.Series(dtype=float), Exposure(), 3).candidates
    drawn = redraw_one(design, "high", top_cap_reached=True, seed=3, draw=1)
    assert drawn["selected"].sum() == 1
    assert (
        set(drawn["stratum"]) == {"high"}
        and not drawn["cell_id"].isin(design.loc[design["selected"], "cell_id"]).any()
    )
    assert drawn["inclusion_probability"].sum() == pytest.approx(1)
    weights = drawn["priority"] / drawn["priority"].sum()
    assert np.allclose(drawn["inclusion_probability"], weights)
