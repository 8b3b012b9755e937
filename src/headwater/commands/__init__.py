"""Subcommands of `headwater` that talk to a running server."""
