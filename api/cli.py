"""Command-line tools: `flask db upgrade|downgrade`, `flask demo load`."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup

from api.db import db
from models import schema


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
    @click.option("--if-empty", is_flag=True, help="do nothing when the database already holds townships")
    def load(seed: int, townships: int, villages: int, cells: int, if_empty: bool) -> None:
        """Generate a synthetic county and load it through the same rules as the API."""
        from models.demo import load_demo_county

        session = db.session()
        started = time.perf_counter()
        counts = load_demo_county(
            session, seed=seed, townships=townships, villages=villages, cells=cells, if_empty=if_empty
        )
        if counts is None:
            click.echo("demo county not loaded: the database already holds townships")
            return
        click.echo(
            f"demo county loaded in {time.perf_counter() - started:.1f} s: {counts['townships']} townships, "
            f"{counts['villages']} villages, {counts['cells']} grid cells (seed {seed})"
        )

    app.cli.add_command(db_cli)
    app.cli.add_command(demo_cli)
