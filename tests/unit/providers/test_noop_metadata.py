"""The noop provider's flavor and availability zone capabilities and validation."""

from __future__ import annotations

from typing import Any

import pytest
from octavia_lib.api.drivers import exceptions as lib_exceptions

from octavia.common import exceptions
from octavia.providers import loader
from octavia.providers.noop_driver import NoopProviderDriver


@pytest.fixture
def driver() -> NoopProviderDriver:
    return NoopProviderDriver()


def test_supported_metadata_matches_upstream_noop_driver(driver: NoopProviderDriver) -> None:
    assert set(driver.get_supported_flavor_metadata()) == {"amp_image_tag"}
    assert set(driver.get_supported_availability_zone_metadata()) == {"compute_zone", "volume_zone"}


def test_known_keys_validate(driver: NoopProviderDriver) -> None:
    driver.validate_flavor({"amp_image_tag": "amphora"})
    driver.validate_flavor({})
    driver.validate_availability_zone({"compute_zone": "az1", "volume_zone": "az1"})


@pytest.mark.parametrize(
    "metadata, message",
    [
        ({"loadbalancer_topology": "SINGLE"}, "Unsupported flavor metadata key(s): loadbalancer_topology."),
        ({"amp_image_tag": 3}, "The flavor metadata value of 'amp_image_tag' must be a string."),
        (["amp_image_tag"], "The flavor metadata must be a JSON object."),
    ],
)
def test_bad_flavor_metadata_is_an_unsupported_option(
    driver: NoopProviderDriver, metadata: Any, message: str
) -> None:
    with pytest.raises(lib_exceptions.UnsupportedOptionError) as err:
        driver.validate_flavor(metadata)
    assert message in err.value.user_fault_string


def test_bad_zone_metadata_surfaces_as_501(driver: NoopProviderDriver) -> None:
    with pytest.raises(exceptions.ProviderUnsupportedOptionError) as err:
        loader.call_provider("noop_driver", driver.validate_availability_zone, {"management_network": "n"})
    assert err.value.code == 501
    assert err.value.msg.startswith(
        "Provider 'noop_driver' does not support a requested option: "
        "Unsupported availability zone metadata key(s): management_network."
    )


def test_vip_port_creation_is_left_to_the_network_driver(driver: NoopProviderDriver) -> None:
    with pytest.raises(lib_exceptions.NotImplementedError):
        driver.create_vip_port("lb", "proj", {}, [])
