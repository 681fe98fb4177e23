"""Errors of the HAProxy configuration renderer and validator."""

from __future__ import annotations


class ConfigRenderError(ValueError):
    """The objects cannot be turned into a safe, valid HAProxy configuration."""


class HaproxyConfigInvalid(Exception):
    """`haproxy -c` refused a configuration; the message holds HAProxy's own alerts."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output
