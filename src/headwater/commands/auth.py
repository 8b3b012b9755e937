"""`headwater auth ...`: manage the credentials file (users, their access keys, roles) offline.

Secrets are printed once, when a key is made, and never again: `list` shows access key ids only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from headwater.auth import config as auth_config
from headwater.auth.config import Account, AuthConfig, AuthConfigError, KeyPair, PolicySource, Role, User
from headwater.auth.credentials import Secret, new_access_key_id, new_secret_access_key

config_option = click.option(
    "--auth-config",
    "config_path",
    envvar=auth_config.ENV_VAR,
    default=auth_config.DEFAULT_PATH,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The credentials file.",
)
insecure_option = click.option(
    "--allow-insecure-auth-config",
    "allow_insecure",
    is_flag=True,
    help="Use the file even if others can read it (it holds secret keys).",
)
account_option = click.option("--account", required=True, help="The 12-digit account id.")
policy_option = click.option(
    "--policy",
    "policy_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An identity policy (JSON file) to attach; repeatable.",
)


def _load(path: Path, allow_insecure: bool, create: bool = False) -> AuthConfig:
    if create and not path.exists():
        return AuthConfig()
    try:
        return auth_config.load(path, allow_insecure=allow_insecure)
    except AuthConfigError as err:
        raise click.ClickException(str(err)) from None


def _save(config: AuthConfig, path: Path) -> None:
    # Re-validate what is about to be written, exactly as a later load will read it.
    auth_config.parse(_as_data(config), path.parent, str(path))
    auth_config.save(config, path)


def _as_data(config: AuthConfig) -> dict[str, object]:
    import tomllib

    return tomllib.loads(auth_config.to_toml(config))


def _policies(files: tuple[Path, ...], config_path: Path) -> tuple[PolicySource, ...]:
    """Attach policy files by path (relative to the config file when they live beside it), validated now."""
    sources = []
    base = config_path.resolve().parent
    for file in files:
        resolved = file.resolve()
        entry = str(resolved.relative_to(base)) if resolved.is_relative_to(base) else str(resolved)
        try:
            sources.append(auth_config.policy_source(entry, base, str(file)))
        except AuthConfigError as err:
            raise click.ClickException(str(err)) from None
    return tuple(sources)


def _with_account(config: AuthConfig, account: str) -> AuthConfig:
    if any(a.id == account for a in config.accounts):
        return config
    return dataclasses.replace(config, accounts=(*config.accounts, Account(account)))


@click.group()
def auth() -> None:
    """Users, access keys and roles in the credentials file (--auth-config / HEADWATER_AUTH_CONFIG)."""


@auth.command("add-user")
@click.argument("name")
@account_option
@policy_option
@config_option
@insecure_option
def add_user(
    name: str, account: str, policy_files: tuple[Path, ...], config_path: Path, allow_insecure: bool
) -> None:
    """Add user NAME with a new access key, and print the key (the secret is shown only this once)."""
    config = _with_account(_load(config_path, allow_insecure, create=True), account)
    if any((u.account, u.name) == (account, name) for u in config.users):
        raise click.ClickException(f"user {name} already exists in account {account}")
    key = KeyPair(new_access_key_id(), Secret(new_secret_access_key()))
    user = User(name, account, _policies(policy_files, config_path), (key,))
    _save(dataclasses.replace(config, users=(*config.users, user)), config_path)
    click.echo(f"Added {user.arn} to {config_path}")
    click.echo(f"Access key id:     {key.id}")
    click.echo(f"Secret access key: {key.secret.reveal()}")
    click.echo("Store the secret now: it is not shown again.")


@auth.command("add-role")
@click.argument("name")
@account_option
@policy_option
@config_option
@insecure_option
def add_role(
    name: str, account: str, policy_files: tuple[Path, ...], config_path: Path, allow_insecure: bool
) -> None:
    """Add role NAME (functions and event source mappings act as it)."""
    config = _with_account(_load(config_path, allow_insecure, create=True), account)
    if any((r.account, r.name) == (account, name) for r in config.roles):
        raise click.ClickException(f"role {name} already exists in account {account}")
    role = Role(name, account, _policies(policy_files, config_path))
    _save(dataclasses.replace(config, roles=(*config.roles, role)), config_path)
    click.echo(f"Added {role.arn} to {config_path}")


@auth.command("remove-user")
@click.argument("name")
@click.option("--account", help="The user's account (needed when several accounts have a user NAME).")
@config_option
@insecure_option
def remove_user(name: str, account: str | None, config_path: Path, allow_insecure: bool) -> None:
    """Remove user NAME, its access keys and its temporary credentials."""
    config = _load(config_path, allow_insecure)
    matching = [u for u in config.users if u.name == name and account in (None, u.account)]
    if not matching:
        raise click.ClickException(f"no user {name}" + (f" in account {account}" if account else ""))
    if len(matching) > 1:
        accounts = ", ".join(u.account for u in matching)
        raise click.ClickException(f"user {name} exists in several accounts ({accounts}): pass --account")
    gone = matching[0]
    config = dataclasses.replace(
        config,
        users=tuple(u for u in config.users if u is not gone),
        temporary=tuple(t for t in config.temporary if (t.account, t.user) != (gone.account, gone.name)),
    )
    _save(config, config_path)
    click.echo(f"Removed {gone.arn} and its {len(gone.access_keys)} access key(s)")


@auth.command("list")
@config_option
@insecure_option
def list_principals(config_path: Path, allow_insecure: bool) -> None:
    """Users, roles and temporary credentials, with access key ids (never secrets)."""
    from rich.console import Console
    from rich.table import Table

    config = _load(config_path, allow_insecure)
    table = Table(title=str(config_path))
    for column in ("Kind", "ARN", "Access keys", "Policies"):
        table.add_column(column, overflow="fold")
    for user in config.users:
        table.add_row("user", user.arn, "\n".join(k.id for k in user.access_keys), _describe(user.policies))
    for role in config.roles:
        table.add_row("role", role.arn, "", _describe(role.policies))
    for temp in config.temporary:
        whom = temp.user or temp.role or ""
        kind = "temporary (user)" if temp.user else "temporary (role)"
        table.add_row(kind, f"{temp.account}:{whom}", temp.access_key_id, _expiry(temp.expires_at))
    Console().print(table)


def _describe(policies: tuple[PolicySource, ...]) -> str:
    return "\n".join("(inline)" if p.entry.lstrip().startswith("{") else p.entry for p in policies)


def _expiry(expires_at: float | None) -> str:
    import datetime as dt

    if expires_at is None:
        return "never expires"
    return "expires " + dt.datetime.fromtimestamp(expires_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
