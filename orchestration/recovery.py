"""At the start of every run: clear what killed runs left (see beatwise/recovery.py), and give back the
`warehouse` pool slots that Dagster still counts as held by runs whose process is gone; otherwise every
later run waits for that slot forever.
"""

from __future__ import annotations

import json

import click
import dagster as dg
from dagster._core.events import DagsterEventType

from beatwise import paths, recovery, warehouse
from beatwise.audit import checkpoints

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def run_pids(instance: dg.DagsterInstance, run_id: str) -> set[int]:
    """The processes that executed a run's steps (Dagster's engine events name them)."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT).records
    pids = set()
    for record in records:
        data = record.event_log_entry.dagster_event.event_specific_data
        pid = (getattr(data, "metadata", None) or {}).get("pid")
        if pid is not None:
            pids.add(int(pid.value))
    return pids


def reclaim_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs whose processes are all gone, and free their pool slots."""
    storage = instance.event_log_storage
    candidates = {r.run_id for r in instance.get_runs(dg.RunsFilter(statuses=UNFINISHED))}
    candidates |= set(storage.get_concurrency_run_ids())
    reclaimed = []
    for run_id in sorted(candidates):
        pids = run_pids(instance, run_id)
        if not pids or any(recovery.process_start(pid) for pid in pids):
            continue  # not started by a process yet, or still running
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            instance.report_run_failed(run, "its process was killed; found dead at the start of a later run")
        storage.free_concurrency_slots_for_run(run_id)
        reclaimed.append(run_id)
    return reclaimed


def recover_before_run() -> None:
    """Everything a run does before it starts: clear dead runs' children, leftovers and pool slots, then
    register itself (so that the run after it can do the same for it)."""
    cleared = recovery.recover()
    with dg.DagsterInstance.get() as instance:
        runs = reclaim_dead_runs(instance)
    recovery.register_run()
    if runs or cleared.dead_runs or cleared.removed:
        click.echo(f"{cleared}; {len(runs)} stale Dagster run(s) marked failed, their pool slots freed", err=True)


def checkpoint_after_run() -> None:
    """Sign the audit chain's head (if a writer has not already) and say where it stands."""
    recovery.finish_run()
    if paths.warehouse_path().exists():
        with warehouse.connect(paths.warehouse_path()):
            pass  # a writer closing the warehouse signs the head (beatwise.audit.checkpoints)
        entry = json.loads(checkpoints.export(paths.warehouse_path()))
        click.echo(
            f"audit: record {entry['seq']} signed in checkpoint {entry['n']} "
            f"(public key {entry['public_key']})"
        )
