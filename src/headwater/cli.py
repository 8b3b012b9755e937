"""The `headwater` command: its subcommands are in commands/ (`serve` in commands/serve.py)."""

from __future__ import annotations

import click

from .commands.admin import admin
from .commands.auth import auth
from .commands.backup import backup, restore
from .commands.dax import dax
from .commands.kinesis import kinesis
from .commands.replicas import replicas
from .commands.serve import serve
from .commands.sinks import sinks
from .commands.streams import streams
from .commands.triggers import functions, triggers
from .commands.usage import usage
from .commands.wait import wait


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Headwater: DynamoDB and DynamoDB Streams on your own machine."""


main.add_command(admin)
main.add_command(auth)
main.add_command(backup)
main.add_command(functions)
main.add_command(kinesis)
main.add_command(restore)
main.add_command(serve)
main.add_command(sinks)
main.add_command(replicas)
main.add_command(streams)
main.add_command(triggers)
main.add_command(usage)
main.add_command(wait)
main.add_command(dax)
