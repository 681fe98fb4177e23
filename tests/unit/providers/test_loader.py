"""Loading providers by entry point and translating their exceptions into API errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from octavia_lib.api.drivers import exceptions as lib_exceptions

from octavia.common import config, exceptions
from octavia.providers import loader
from octavia.providers.noop_driver import NoopProviderDriver

CONF = config.CONF


@pytest.fixture(autouse=True)
def fresh_loader() -> Iterator[None]:
    loader.reset()
    yield
    CONF.clear_override("enabled_provider_drivers", group="api_settings")
    CONF.clear_override("default_provider_driver", group="api_settings")
    loader.reset()


def test_none_means_the_default_provider() -> None:
    CONF.set_override("default_provider_driver", "noop_driver", group="api_settings")
    driver = loader.get_driver(None)
    assert isinstance(driver, NoopProviderDriver)
    assert driver.name == "noop_driver"


def test_drivers_are_loaded_once_per_name() -> None:
    assert loader.get_driver("noop_driver") is loader.get_driver("noop_driver")


def test_provider_not_enabled_is_a_400() -> None:
    CONF.set_override("enabled_provider_drivers", {"amphora": "The Octavia Amphora driver."},
                      group="api_settings")
    with pytest.raises(exceptions.BadRequest) as err:
        loader.get_driver("noop_driver")
    assert err.value.code == 400
    assert err.value.msg == "Provider 'noop_driver' is not enabled."


def test_enabled_but_not_installed_is_a_501() -> None:
    CONF.set_override("enabled_provider_drivers", {"ghost": "Not installed anywhere."}, group="api_settings")
    with pytest.raises(exceptions.ProviderNotFound) as err:
        loader.get_driver("ghost")
    assert err.value.code == 501
    assert err.value.msg == "Provider 'ghost' was not found."


def test_enabled_providers_lists_the_configuration() -> None:
    CONF.set_override("enabled_provider_drivers", {"noop_driver": "The no-op driver."}, group="api_settings")
    assert loader.enabled_providers() == {"noop_driver": "The no-op driver."}


def _raise(exc: BaseException) -> None:
    raise exc


def test_call_provider_returns_the_result() -> None:
    assert loader.call_provider("p", lambda a, b=0: a + b, 2, b=3) == 5


def test_driver_error_shows_the_user_string_and_logs_the_operator_string(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exc = lib_exceptions.DriverError(user_fault_string="VIP busy", operator_fault_string="port 42 locked")
    with caplog.at_level(logging.ERROR, logger="octavia.providers.loader"):
        with pytest.raises(exceptions.ProviderDriverError) as err:
            loader.call_provider("acme", _raise, exc)
    assert err.value.code == 500
    assert err.value.msg == "Provider 'acme' reports error: VIP busy"
    assert "port 42 locked" in caplog.text
    assert "port 42 locked" not in err.value.msg


def test_library_not_implemented_is_a_501_with_the_user_string() -> None:
    exc = lib_exceptions.NotImplementedError(user_fault_string="No UDP here.")
    with pytest.raises(exceptions.ProviderNotImplementedError) as err:
        loader.call_provider("acme", _raise, exc)
    assert err.value.code == 501
    assert err.value.msg == "Provider 'acme' does not support a requested action: No UDP here."


def test_builtin_not_implemented_gets_a_generic_message() -> None:
    with pytest.raises(exceptions.ProviderNotImplementedError) as err:
        loader.call_provider("acme", _raise, NotImplementedError())
    assert err.value.msg == (
        "Provider 'acme' does not support a requested action: "
        "This feature is not implemented by the provider."
    )


def test_unsupported_option_is_a_501() -> None:
    exc = lib_exceptions.UnsupportedOptionError(user_fault_string="No SOURCE_IP_PORT.")
    with pytest.raises(exceptions.ProviderUnsupportedOptionError) as err:
        loader.call_provider("acme", _raise, exc)
    assert err.value.code == 501
    assert err.value.msg == "Provider 'acme' does not support a requested option: No SOURCE_IP_PORT."


def test_unexpected_errors_do_not_leak_their_text(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="octavia.providers.loader"):
        with pytest.raises(exceptions.ProviderDriverError) as err:
            loader.call_provider("acme", _raise, ValueError("password=hunter2"))
    assert err.value.code == 500
    assert "hunter2" not in err.value.msg
    assert err.value.msg == f"Provider 'acme' reports error: {loader.GENERIC_DRIVER_ERROR}"
    assert "acme" in caplog.text


def test_api_errors_raised_by_in_tree_drivers_pass_through() -> None:
    original = exceptions.ValidationException(detail="bad subnet")
    with pytest.raises(exceptions.ValidationException) as err:
        loader.call_provider("amphora", _raise, original)
    assert err.value is original
