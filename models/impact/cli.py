"""`beatwise impact ...`: the impact estimate and its proof on a synthetic city with known truth."""

from __future__ import annotations

import json
import time

import click

from models.impact.proof import ProofSettings, prove


@click.group()
def impact() -> None:
    """The effect of directed-patrol missions on crime, from the plans' randomization."""


@impact.command("proof")
@click.option("--seeds", default=20, show_default=True, help="seeds per scenario (true effect, true null)")
@click.option(
    "--shifts", default=ProofSettings().shifts, show_default=True, help="closed-loop shifts per seed"
)
@click.option("--workers", default=2, show_default=True, help="processes")
@click.option("--json", "as_json", is_flag=True, help="print JSON: the summary and the per-seed rows")
def proof(seeds: int, shifts: int, workers: int, as_json: bool) -> None:
    """Closed loop on the synthetic city (forecast -> plan -> simulated operations -> crime responding to
    dose): does the 95% interval of the estimated effect cover the truth, for a true effect and a null?"""
    settings = ProofSettings(shifts=shifts)
    started = time.perf_counter()
    result = prove(seeds, settings, workers=workers)
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    click.echo(f"{'scenario':8} {'seed':>4} {'truth':>6} {'estimate':>9} {'95% interval':>20}  covers")
    for row in result["rows"]:
        click.echo(
            f"{row['scenario']:8} {row['seed']:>4} {row['truth']:>6.2f} {row['estimate']:>9.3f} "
            f"[{row['ci_low']:>7.3f}, {row['ci_high']:>7.3f}]  {'yes' if row['covered'] else 'NO'}"
        )
    effect, null = result["effect"], result["null"]
    click.echo(
        f"true effect {effect['truth']:.2f}: covered in {effect['covered']} of {effect['seeds']} seeds, "
        f"mean estimate {effect['mean_estimate']:.3f}, relative bias {effect['relative_bias']:+.1%}"
    )
    click.echo(
        f"true null: {null['rejections']} of {null['seeds']} intervals exclude zero "
        f"(mean estimate {null['mean_estimate']:+.3f})"
    )
    click.echo(f"{time.perf_counter() - started:.0f} s")
