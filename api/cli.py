"""Command-line tools: `flask db ...`, `flask demo load [--reset]`, `flask users create-admin | set-password`,
`flask auth purge-tokens`.

Commands act as the system (county-wide; `system` in the audit trail).
"""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup

from api.db import db
from models import schema
from models.errors import DomainError
from models.files import file_store
from models.roles import SYSTEM, Role


def _system_session() -> object:
    session = db.session()
    session.info["actor"] = SYSTEM
    return session


def register_cli(app: Flask) -> None:
    db_cli = AppGroup("db", help="Database schema (Alembic migrations).")

    @db_cli.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade(revision: str) -> None:
        """Upgrade the database schema (default: to the newest revision)."""
        schema.upgrade(db.engine(app), revision)
        click.echo(f"database at {revision}: {db.engine(app).url.render_as_string()}")

    @db_cli.command("downgrade")
    @click.argument("revision")
    def downgrade(revision: str) -> None:
        """Downgrade the database schema to REVISION ('base' empties it)."""
        schema.downgrade(db.engine(app), revision)
        click.echo(f"database at {revision}")

    demo_cli = AppGroup("demo", help="Synthetic demo data.")

    @demo_cli.command("load")
    @click.option("--seed", default=42, show_default=True, help="same seed, same county")
    @click.option("--townships", default=20, show_default=True)
    @click.option("--villages", default=300, show_default=True)
    @click.option("--cells", default=1500, show_default=True)
    @click.option("--enterprises", default=5000, show_default=True, help="and the departments that supervise them")
    @click.option("--hazards", default=2000, show_default=True, help="in the ledger, each with its signed steps")
    @click.option("--patrols", default=3000, show_default=True, help="of the last 90 days, with tracks and check-ins")
    @click.option("--if-empty", is_flag=True, help="do nothing when the database already holds townships")
    @click.option("--reset", is_flag=True, help="empty the database first (every table: accounts and audit too)")
    @click.option("--yes", is_flag=True, help="with --reset: do not ask for confirmation")
    def load(
        seed: int,
        townships: int,
        villages: int,
        cells: int,
        enterprises: int,
        hazards: int,
        patrols: int,
        if_empty: bool,
        reset: bool,
        yes: bool,
    ) -> None:
        """Generate a synthetic county, its officers, departments, enterprises, hazards, patrols and demo accounts, by
        the API's rules."""
        from models.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_county

        if reset and if_empty:
            raise click.UsageError("--reset empties the database, --if-empty keeps what it holds: give one of them")
        if reset:
            engine = db.engine(app)
            where = engine.url.render_as_string(hide_password=True)
            if not yes:
                click.confirm(f"Delete everything in {where} and load the demo county?", abort=True)
            # Down to an empty database and up again: the schema's own way, on both backends (no table forgotten).
            schema.downgrade(engine, "base")
            schema.upgrade(engine)
            engine.dispose()  # SpatiaLite caches geometry metadata per connection
            click.echo(f"database emptied: {where}")
        started = time.perf_counter()
        counts = load_demo_county(
            _system_session(),
            seed=seed,
            townships=townships,
            villages=villages,
            cells=cells,
            enterprises=enterprises,
            hazards=hazards,
            patrols=patrols,
            photos=file_store(app.config["FILE_STORE"]),
            if_empty=if_empty,
        )
        if counts is None:
            click.echo("demo county not loaded: the database already holds townships")
            return
        click.echo(
            f"demo county loaded in {time.perf_counter() - started:.1f} s: {counts['townships']} townships, "
            f"{counts['villages']} villages, {counts['cells']} grid cells, {counts['officers']} officers, "
            f"{counts['assignments']} assignments, {counts.get('departments', 0)} departments, "
            f"{counts.get('enterprises', 0)} enterprises, {counts.get('hazards', 0)} hazards, "
            f"{counts.get('patrols', 0)} patrols, {counts.get('duty_rosters', 0)} duty rosters (seed {seed})"
        )
        names = ", ".join(username for username, _name, _role in DEMO_ACCOUNTS)
        click.echo(f"demo accounts {names}; password {DEMO_PASSWORD!r} (demo only)")

    users_cli = AppGroup("users", help="User accounts.")

    @users_cli.command("create-admin")
    @click.argument("username")
    @click.option("--display-name", default=None, help="defaults to the username")
    @click.password_option(envvar="GRIDPATROL_ADMIN_PASSWORD", help="prompted for when not given (or set in env)")
    def create_admin(username: str, display_name: str | None, password: str) -> None:
        """Create a county administrator account (the first one, or another)."""
        from models.accounts.service import create_user

        try:
            user = create_user(
                _system_session(),
                caller=SYSTEM,
                username=username,
                display_name=display_name or username,
                password=password,
                role=Role.COUNTY_ADMIN,
            )
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc
        click.echo(f"county administrator {user.username!r} created (id {user.id})")

    @users_cli.command("set-password")
    @click.argument("username")
    @click.password_option(envvar="GRIDPATROL_ADMIN_PASSWORD", help="prompted for when not given (or set in env)")
    def set_password(username: str, password: str) -> None:
        """Set a user's password (an administrator who forgot theirs): their sessions end, a login lock is lifted."""
        from models.accounts.service import reset_password_of

        try:
            user = reset_password_of(_system_session(), caller=SYSTEM, username=username, new_password=password)
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc
        click.echo(f"password of {user.username!r} set (id {user.id}); their sessions ended, any login lock lifted")

    auth_cli = AppGroup("auth", help="Tokens.")

    @auth_cli.command("purge-tokens")
    def purge_tokens() -> None:
        """Delete expired tokens and idempotency keys (safe to run any time, e.g. daily from cron)."""
        from models.accounts.tokens import purge_expired_tokens
        from models.idempotency import purge_expired_keys

        session = _system_session()
        click.echo(f"{purge_expired_tokens(session)} expired tokens deleted")
        click.echo(f"{purge_expired_keys(session)} expired idempotency keys deleted")

    for group in (db_cli, demo_cli, users_cli, auth_cli):
        app.cli.add_command(group)
