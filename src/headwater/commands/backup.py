"""`headwater backup --to FILE` and `headwater restore FILE --data-dir DIR`: the operator's backup of a
whole SQLite data directory, taken while the server runs (storage/sqlite/online_backup.py). For a
PostgreSQL deployment, back up the database with PostgreSQL's own tools (README: "Backups")."""

from __future__ import annotations

from pathlib import Path

import click

from ..storage.sqlite.online_backup import BackupError, Manifest
from ..storage.sqlite.online_backup import backup as take_backup
from ..storage.sqlite.online_backup import restore as bring_back
from .progress import stage_bars

DATA_DIR = click.option(
    "--data-dir",
    envvar="HEADWATER_DATA_DIR",
    default="./headwater-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The server's data directory.",
)


def _summary(manifest: Manifest) -> str:
    counts = manifest.counts
    return (
        f"{counts['items']} items, {counts['index_entries']} index entries, "
        f"{counts['stream_records']} stream records, {counts['meta']} metadata documents; "
        f"integrity check ok, sha256 {manifest.sha256[:16]}..."
    )


@click.command()
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write (replaced only once the new one is complete and verified).",
)
@DATA_DIR
def backup(target: Path, data_dir: Path) -> None:
    """Back up a data directory (its server may be running) to one verified file."""
    try:
        with stage_bars() as stages:
            manifest = take_backup(data_dir, target, stages)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up {data_dir} to {target}: {_summary(manifest)}")


@click.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The data directory to create (new or empty).",
)
def restore(archive: Path, data_dir: Path) -> None:
    """Restore a backup made by `headwater backup` as a new data directory, verifying it."""
    try:
        with stage_bars() as stages:
            manifest = bring_back(archive, data_dir, stages)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {archive} into {data_dir}: {_summary(manifest)}")
