"""The functional tier's database, config and driver-agent fixtures, reused by the fuzz run."""

from tests.functional.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    app_config,
    db,
    driver_agent,
    migrated_template,
    overrides,
)
