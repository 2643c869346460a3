"""Tactics: what officers do on a mission. Non-enforcement by default.

The agency config lists tactics per crime type (`crime_types.<name>.tactics`); a crime type without any
falls back to DEFAULT_TACTICS. A mission recommends the tactics of the crime types driving it, most
important crime type first.
"""

from __future__ import annotations

from beatwise.config.schema import AgencyConfig

# tactic -> what it means, for briefings. All are visible, non-enforcement presence.
CATALOG = {
    "foot_patrol": "Leave the car and walk the cell; be seen, greet people.",
    "park_and_walk": "Park visibly in the cell and walk its blocks for the dose.",
    "business_check": "Stop in at open businesses; ask about recent problems.",
    "community_contact": "Talk with residents, block clubs and building staff.",
    "lighting_and_property_check": "Check lighting, doors, gates and vacant lots; report defects.",
    "slow_drive_through": "Drive the cell slowly with windows down.",
    "parking_lot_check": "Walk parking lots and garages; look for opened or damaged vehicles.",
    "transit_stop_presence": "Stand at bus and train stops at busy times.",
}

DEFAULT_TACTICS = {
    "gunfire": ["community_contact", "foot_patrol", "park_and_walk"],
    "homicide": ["community_contact", "foot_patrol", "park_and_walk"],
    "aggravated_assault": ["foot_patrol", "park_and_walk", "community_contact"],
    "robbery": ["foot_patrol", "business_check", "transit_stop_presence"],
    "burglary": ["lighting_and_property_check", "community_contact", "slow_drive_through"],
    "motor_vehicle_theft": ["parking_lot_check", "slow_drive_through", "lighting_and_property_check"],
    "theft": ["business_check", "foot_patrol", "transit_stop_presence"],
}

# For low-risk (deterrence) missions with no driving crime type.
GENERAL_TACTICS = ["park_and_walk", "community_contact"]


def tactics_for(crime_type: str, config: AgencyConfig) -> list[str]:
    """The configured tactics of a crime type, else the defaults."""
    ct = config.crime_types.get(crime_type)
    return list(ct.tactics) if ct and ct.tactics else list(DEFAULT_TACTICS.get(crime_type, GENERAL_TACTICS))


def recommend(shares: dict[str, float], config: AgencyConfig, limit: int = 3) -> list[dict[str, str]]:
    """Up to `limit` tactics for a mission driven by `shares` (crime type -> share), in order of importance.

    Each is {"tactic", "crime_type", "description"}; crime_type is "" for general deterrence.
    """
    chosen: list[dict[str, str]] = []
    for crime_type, _ in sorted(shares.items(), key=lambda kv: -kv[1]):
        for tactic in tactics_for(crime_type, config):
            if tactic not in {c["tactic"] for c in chosen}:
                chosen.append({"tactic": tactic, "crime_type": crime_type, "description": describe(tactic)})
                break
        if len(chosen) == limit:
            return chosen
    top = max(shares, key=shares.get) if shares else ""
    fill = tactics_for(top, config) if top else GENERAL_TACTICS
    for tactic in fill:
        if len(chosen) == limit:
            break
        if tactic not in {c["tactic"] for c in chosen}:
            chosen.append({"tactic": tactic, "crime_type": top, "description": describe(tactic)})
    return chosen


def describe(tactic: str) -> str:
    return CATALOG.get(tactic, tactic.replace("_", " ").capitalize() + ".")
