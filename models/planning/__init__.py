"""Mission planning: from risk surfaces to randomized, capped directed-patrol missions.

priority -> selection (sampling with exact inclusion probabilities, caps, strata, capacity) -> missions
(tactics, dose, visits) -> briefings; overrides arrive through a durable inbox; every plan can be replayed.
"""


class PlanningError(ValueError):
    """Input that planning refuses, with a message that says what and where."""
