"""Hand-made gate cases shared by the champion and candidate tests: per-shift figures with known means."""

import numpy as np

from models.forecasting.champion import GateEvidence, ShiftFigures

SHIFTS = 60
EVIDENCE = GateEvidence(harm_total=np.full(SHIFTS, 10.0), crimes=np.full(SHIFTS, 2.0), area_share=0.01)


def figures(harm: float, captured: float, noise: float = 0.0, shifts: int = SHIFTS) -> ShiftFigures:
    """Per-shift figures around the given means (alternating +-noise, so the interval is known)."""
    wobble = noise * np.where(np.arange(shifts) % 2, 1.0, -1.0)
    return ShiftFigures(np.full(shifts, harm) + wobble, np.full(shifts, captured) + wobble)
