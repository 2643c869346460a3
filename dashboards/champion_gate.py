"""The champion gate's decision and figures in words (forecast.champion_gate), for the Model performance page.

The gate records what it served (`champion`, a method's code name), the best baseline, the blend's weight,
and its figures as one `reason` text (models/forecasting/champion.py: one clause per candidate, the blend
and the augmented count named with what they are made of). The blend's partner is only in that text, so
it is read from there; method names go through explain.method_words, the one mapping to words.
"""

from __future__ import annotations

import re

import pandas as pd

from models.forecasting.explain import method_words

NUMBER = r"[-+]?\d+(?:\.\d+)?"
NAME = r"[a-z0-9_]+(?: \([^)]*\))?"  # a code name, or a blend / augmented count with its make-up
BLEND = re.compile(rf"blend \(({NUMBER}) x (\w+) \+ ({NUMBER}) x (\w+)\)")
AUGMENTED = re.compile(rf"augmented_count \(364-day count \+ ({NUMBER}) x the signal offences'\)")
LOSES = re.compile(rf"({NAME}): harm capture ({NUMBER}) <= (\w+)'s ({NUMBER})")
PAI_BELOW = re.compile(rf"({NAME}): PAI@1% ({NUMBER}) below (\w+)'s ({NUMBER}) beyond the (\d+)% interval "
                       rf"\(({NUMBER}) \.\. ({NUMBER})\)")
WINS = re.compile(rf"({NAME}): harm capture ({NUMBER}) -> ({NUMBER}) \(({NUMBER}) \.\. ({NUMBER})\), "
                  rf"PAI@1% ({NUMBER}) -> ({NUMBER})")
NONE = re.compile(r"no candidate was evaluated; (\w+) serves")


def share(value: str | float) -> str:
    """A harm-capture share as a percentage: 0.0681 -> '6.81%'."""
    return f"{100 * float(value):.2f}%"


def points(value: str | float) -> str:
    """A difference of shares in percentage points: +0.0050 -> '+0.50'."""
    return f"{100 * float(value):+.2f}"


def name_words(name: str) -> str:
    """A candidate as the gate names it, in words: a blend with its partner and weights, the augmented count
    with its weight."""
    if blend := BLEND.fullmatch(name):
        w, model, rest, partner = blend.groups()
        return (f"a blend of {100 * float(w):.0f}% {method_words(model)} and {100 * float(rest):.0f}% "
                f"{method_words(partner)}")
    if augmented := AUGMENTED.fullmatch(name):
        return f"{method_words('augmented_count')} (each related report counted {float(augmented.group(1)):g})"
    return method_words(name)


def clause_words(clause: str) -> str:
    """One clause of the gate's reason as a sentence; a clause of an unknown form is kept, de-underscored."""
    if m := LOSES.fullmatch(clause):
        name, got, best, bar = m.groups()
        return (f"{name_words(name)} captured {share(got)} of the harm at 1%, not more than "
                f"{method_words(best)} ({share(bar)}).")
    if m := PAI_BELOW.fullmatch(clause):
        name, pai, best, bar, level, low, high = m.groups()
        return (f"{name_words(name)} captured more harm, but its PAI at 1% ({float(pai):.2f}) was below that of "
                f"{method_words(best)} ({float(bar):.2f}) beyond the {level}% interval "
                f"({float(low):+.2f} to {float(high):+.2f}).")
    if m := WINS.fullmatch(clause):
        name, bar, got, low, high, bar_pai, pai = m.groups()
        return (f"{name_words(name)} captured {share(got)} of the harm at 1% against {share(bar)} "
                f"(90% interval of the gain: {points(low)} to {points(high)} points); its PAI at 1% was "
                f"{float(pai):.2f} against the baseline's {float(bar_pai):.2f}.")
    if m := NONE.fullmatch(clause):
        return f"No candidate was evaluated; {method_words(m.group(1))} serves."
    return clause.replace("_", " ")


def figures_in_words(reason: str) -> str:
    """The gate's reason without its leading 'X serves' (the table says who serves), one sentence per
    candidate."""
    clauses = [c.strip() for c in str(reason).split("; ") if c.strip()]
    if clauses and re.fullmatch(r"\w+ serves", clauses[0]):
        clauses = clauses[1:]
    return " ".join(_capital(clause_words(c)) for c in clauses)


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def blend_words(reason: str) -> str | None:
    """The blend the gate's reason names, in words, if it names one."""
    named = BLEND.search(str(reason))
    return name_words(named.group(0)) if named else None


def served_words(row: pd.Series) -> str:
    """What serves a crime type: a blend says with what, and at which weights (read from the reason)."""
    if str(row["champion"]) != "blend":
        return method_words(row["champion"])
    if named := blend_words(row.get("reason", "")):
        return named
    weight = row.get("blend_weight")
    at = f" ({100 * float(weight):.0f}% the model)" if pd.notna(weight) else ""
    return f"{method_words('blend')}{at}"


def gate_in_words(row: pd.Series) -> str:
    """The gate's decision for one crime type as a sentence."""
    baseline = method_words(row["best_baseline"])
    if not row["candidate_wins"]:
        return f"The best baseline ({baseline}) serves: no candidate beat it on harm-weighted capture at 1%."
    served = served_words(row)
    return (f"{_capital(served)} serves: it captured more harm at 1% than the best baseline "
            f"({baseline}), and its PAI at 1% was not below the baseline's beyond the 90% interval.")
