"""Subcommands of `headwater`: `serve` runs the server, most of the others talk to a running one."""
