"""The printable exposure report (PDF): for auditors and the public, what the Exposure page shows.

Patrol minutes per district and per risk decile against crime there over the report's window, the exposure
caps and whether they held, and the closed-loop result for this agency's configuration with when it ran.
"""

from __future__ import annotations

import pandas as pd
from fpdf import FPDF

CLOSED_LOOP_KEYS = ("top1_share", "gini", "max_cell_share", "recorded_true_drift", "crime_prevented")


def _table(pdf: FPDF, frame: pd.DataFrame, widths: list[float]) -> None:
    pdf.set_font("Helvetica", "B", 8)
    for column, width in zip(frame.columns, widths, strict=True):
        pdf.cell(width, 5, str(column), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for row in frame.itertuples(index=False):
        for value, width in zip(row, widths, strict=True):
            text = f"{value:,.3f}" if isinstance(value, float) else str(value)
            pdf.cell(width, 5, text, border=1)
        pdf.ln()
    pdf.ln(3)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")


def _line(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def closed_loop_table(result: dict) -> pd.DataFrame:
    """One row per policy: each measure as 'mean [low, high]', and whether the caps held on every shift."""
    rows = []
    for policy, entry in result["policies"].items():
        row = {"policy": policy}
        for key in CLOSED_LOOP_KEYS:
            row[key] = f"{entry[key]:.3f} [{entry[key + '_low']:.3f}, {entry[key + '_high']:.3f}]"
        row["caps held"] = "yes" if entry["caps_held"] else "no"
        rows.append(row)
    return pd.DataFrame(rows)


def exposure_pdf(
    agency: str,
    districts: pd.DataFrame,
    deciles: pd.DataFrame,
    caps: list[str],
    closed_loop: dict | None,
    simulated: bool,
) -> bytes:
    """The report as PDF bytes. `districts` / `deciles` as the rpt_exposure_* marts; `caps` lines of text."""
    pdf = FPDF(orientation="L")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 9, f"Exposure report: {agency}", new_x="LMARGIN", new_y="NEXT")
    if not districts.empty:
        _line(pdf, f"Window: {districts['window_start'].min():%Y-%m-%d %H:%M} to "
                   f"{districts['window_end'].max():%Y-%m-%d %H:%M} (shift starts).")
    if simulated:
        _line(pdf, "SIMULATED: the patrol minutes of this window come from simulated field operations (demo).")
    shown = ["district", "missions", "delivered_minutes", "minutes_share", "crime_count", "crime_share"]
    _heading(pdf, "Patrol minutes and crime by district")
    _table(pdf, districts[shown], [30, 25, 35, 30, 30, 30])
    _heading(pdf, "Patrol minutes and crime by risk decile of cells (1 = riskiest tenth)")
    shown = ["risk_decile", "cells", "missions", "delivered_minutes", "minutes_share", "crime_count", "crime_share"]
    _table(pdf, deciles[shown], [25, 20, 25, 35, 30, 30, 30])
    _heading(pdf, "Exposure caps")
    for text in caps:
        _line(pdf, text)
    _heading(pdf, "Closed-loop simulation for this configuration")
    if closed_loop is None:
        _line(pdf, "Not run yet: beatwise simulate closed-loop --config <this agency's config>.")
    else:
        _line(pdf, f"Run at {closed_loop['run_at']}: {closed_loop['days']} days, {closed_loop['seeds']} seeds, "
                   f"a synthetic city of {closed_loop['cells']:,} cells planned with this agency's configuration. "
                   "Mean over seeds [90% interval].")
        _table(pdf, closed_loop_table(closed_loop), [45, 42, 42, 42, 42, 42, 20])
    return bytes(pdf.output())
