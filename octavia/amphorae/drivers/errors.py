"""Errors of the controller-side amphora drivers."""

from __future__ import annotations


class AmphoraDriverError(RuntimeError):
    """An amphora could not be configured as asked."""


class AgentUnreachable(AmphoraDriverError):
    """No connection to the agent within the configured retries."""


class AgentIdentityError(AmphoraDriverError):
    """The agent's certificate is not the one of the amphora we meant to reach (never retried)."""


class AgentRequestError(AmphoraDriverError):
    """The agent answered with an error status."""

    def __init__(self, status: int, message: str, details: str | None = None) -> None:
        self.status = status
        self.message = message
        self.details = details
        super().__init__(f"agent answered {status} {message}" + (f": {details}" if details else ""))


class InvalidHAProxyConfig(AgentRequestError):
    """The agent's `haproxy -c` refused the rendered configuration."""
