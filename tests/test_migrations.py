"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from idp import create_app
from idp.extensions import db

from .conftest import (
    DEFAULT_PG_URL,
    TEST_DATABASE_URL,
    create_pg_schema,
    drop_pg_schema,
    postgres_schema_url,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    base = TEST_DATABASE_URL or os.environ.get("TEST_PG_URL", DEFAULT_PG_URL)
    schema = create_pg_schema(base)
    yield postgres_schema_url(base, schema)
    drop_pg_schema(base, schema)


def test_migrations_match_models(empty_database, app_config):
    """Upgrade an empty database; autogenerate finds nothing left to do; downgrade works."""
    app = create_app({**app_config, "DATABASE_URL": empty_database})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()
