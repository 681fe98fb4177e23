"""Provider drivers: loading them by entry point, and calling them safely.

Drivers load from the `octavia.api.drivers` entry point group, so a third-party
provider installed next to this service works unchanged. Only names listed in
`[api_settings] enabled_provider_drivers` may be used. `call_provider` is the single
place that turns octavia-lib's driver exceptions into API errors: the user sees the
driver's `user_fault_string`, the operator's log gets `operator_fault_string`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from octavia_lib.api.drivers import exceptions as lib_exceptions
from octavia_lib.api.drivers.provider_base import ProviderDriver

from octavia.common import config, exceptions

LOG = logging.getLogger(__name__)
CONF = config.CONF

ENTRY_POINT_GROUP = "octavia.api.drivers"
AMPHORA_DRIVER_PATH = "octavia.providers.amphora_driver:AmphoraProviderDriver"
GENERIC_DRIVER_ERROR = "An unknown driver error occurred."

T = TypeVar("T")

_lock = threading.Lock()
_drivers: dict[str, ProviderDriver] = {}


def enabled_providers() -> dict[str, str]:
    """name -> description of every provider the operator enabled."""
    return dict(CONF.api_settings.enabled_provider_drivers)


def get_driver(name: str | None) -> ProviderDriver:
    """The driver instance for `name` (None: the default provider), loaded once per process."""
    if not name:
        name = CONF.api_settings.default_provider_driver
    if name not in CONF.api_settings.enabled_provider_drivers:
        LOG.warning("Requested provider driver '%s' is not enabled in the configuration.", name)
        raise exceptions.BadRequest(f"Provider '{name}' is not enabled.")
    driver = _drivers.get(name)
    if driver is not None:
        return driver
    with _lock:
        driver = _drivers.get(name)
        if driver is None:
            driver = _load(name)
            _drivers[name] = driver
    return driver


def _load(name: str) -> ProviderDriver:
    try:
        (entry_point,) = entry_points(group=ENTRY_POINT_GROUP, name=name)
        driver = entry_point.load()()
    except Exception as exc:
        LOG.error("Unable to load provider driver %s: %s", name, exc)
        raise exceptions.ProviderNotFound(prov=name) from exc
    driver.name = name
    return driver


def names_of(driver_path: str) -> list[str]:
    """Provider names whose entry point is `driver_path` (`amphora` and its alias `octavia`)."""
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.value == driver_path)


def reset() -> None:
    """Forget loaded drivers (tests that change the enabled set or the entry points)."""
    with _lock:
        _drivers.clear()


def call_provider(provider_name: str | None, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a driver method, translating its exceptions into the API's provider errors."""
    try:
        return method(*args, **kwargs)
    except lib_exceptions.DriverError as exc:
        LOG.error("Provider '%s' raised a driver error: %s", provider_name, exc.operator_fault_string)
        raise exceptions.ProviderDriverError(prov=provider_name, user_msg=exc.user_fault_string) from exc
    except (lib_exceptions.NotImplementedError, NotImplementedError) as exc:
        LOG.info(
            "Provider '%s' raised a not implemented error: %s",
            provider_name,
            getattr(exc, "operator_fault_string", "This feature is not implemented by this provider."),
        )
        user_msg = getattr(exc, "user_fault_string", "This feature is not implemented by the provider.")
        raise exceptions.ProviderNotImplementedError(prov=provider_name, user_msg=user_msg) from exc
    except lib_exceptions.UnsupportedOptionError as exc:
        LOG.info("Provider '%s' raised an unsupported option error: %s", provider_name,
                 exc.operator_fault_string)
        raise exceptions.ProviderUnsupportedOptionError(
            prov=provider_name, user_msg=exc.user_fault_string
        ) from exc
    except exceptions.APIException:
        raise
    except Exception as exc:
        LOG.exception("Provider '%s' raised an unexpected error", provider_name)
        raise exceptions.ProviderDriverError(prov=provider_name, user_msg=GENERIC_DRIVER_ERROR) from exc
