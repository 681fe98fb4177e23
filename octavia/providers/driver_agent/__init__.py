"""The driver agent: the DB side of octavia-lib's provider status/stats/get protocol."""

from octavia.providers.driver_agent.server import DriverAgent, start_driver_agent

__all__ = ["DriverAgent", "start_driver_agent"]
