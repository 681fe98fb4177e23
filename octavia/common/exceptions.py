"""Domain errors. Each carries the HTTP code and the user-safe `faultstring` it maps to.

Domain code raises these without knowing about HTTP; the API turns them into
upstream's WSME-style error body in one place (`octavia.api.errors`).
"""

from __future__ import annotations

from octavia.common.constants import RESOURCE_NAMES


class APIException(Exception):
    code = 500
    message = "An unknown exception occurred."

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        self.msg = message if message is not None else self.message.format(**kwargs)
        super().__init__(self.msg)


class InvalidInput(APIException):
    """A field failed its schema (WSME's `Invalid input for field/attribute ...`)."""

    code = 400
    message = "Invalid input for field/attribute {attr}. Value: '{value}'. {reason}"


class ValidationException(APIException):
    code = 400
    message = "Validation failure: {detail}"


class InvalidOption(APIException):
    code = 400
    message = "{value} is not a valid option for {option}"


class DisabledOption(APIException):
    code = 400
    message = "The selected {option} is not allowed in this deployment: {value}"


class BadRequest(APIException):
    code = 400


class InvalidFilterArgument(APIException):
    code = 400
    message = "One or more arguments are either duplicate or invalid"


class InvalidSortKey(APIException):
    code = 400
    message = "Supplied sort key '{key}' is not valid."


class InvalidSortDirection(APIException):
    code = 400
    message = "Supplied sort direction '{key}' is not valid."


class InvalidMarker(APIException):
    code = 400
    message = "Supplied pagination marker '{key}' is not valid."


class InvalidLimit(APIException):
    code = 400
    message = "Supplied pagination limit '{key}' is not valid."


class MissingProjectID(APIException):
    code = 400
    message = "Missing project ID in request where one is required."


class NotAuthorized(APIException):
    code = 403
    message = "Policy does not allow this request to be performed."


class QuotaException(APIException):
    code = 403
    message = "Quota has been met for resources: {resource}"


class NotFound(APIException):
    code = 404
    message = "{resource} {id} not found."

    def __init__(self, resource: str, id: str) -> None:  # noqa: A002 - upstream wording
        super().__init__(resource=RESOURCE_NAMES.get(resource, resource), id=id)


class Conflict(APIException):
    code = 409


class ImmutableObject(Conflict):
    message = "{resource} {id} is immutable and cannot be updated."

    def __init__(self, resource: str, id: str) -> None:  # noqa: A002
        super().__init__(resource=RESOURCE_NAMES.get(resource, resource), id=id)


class InvalidLoadBalancerState(Conflict):
    message = "Invalid state {state} of loadbalancer resource {id}"


class DuplicateListenerEntry(Conflict):
    message = (
        "Another Listener on this Load Balancer is already using protocol {protocol} "
        "and protocol_port {port}"
    )


class DuplicateMemberEntry(Conflict):
    message = "Another member on this pool is already using ip {ip_address} on protocol_port {port}"


class DuplicateHealthMonitor(Conflict):
    message = "This pool already has a health monitor"


class DuplicatePoolEntry(Conflict):
    message = "This listener already has a default pool"


class ObjectInUse(Conflict):
    message = "{object} {id} is in use and cannot be modified."


class RecordAlreadyExists(Conflict):
    message = "A {field} of {name} already exists."


class RequestEntityTooLarge(APIException):
    code = 413
    message = "Request Entity Too Large"


class ProviderNotImplementedError(APIException):
    code = 501
    message = "Provider '{prov}' does not support a requested action: {user_msg}"


class ProviderUnsupportedOptionError(APIException):
    code = 501
    message = "Provider '{prov}' does not support a requested option: {user_msg}"


class ProviderNotFound(APIException):
    code = 501
    message = "Provider '{prov}' was not found."


class ProviderDriverError(APIException):
    code = 500
    message = "Provider '{prov}' reports error: {user_msg}"


class ServiceUnavailable(APIException):
    code = 503
    message = "The service is temporarily unavailable: {reason}"
