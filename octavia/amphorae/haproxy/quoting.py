"""Turn user-supplied strings into HAProxy configuration words that cannot inject anything.

HAProxy reads its configuration in three layers, and each needs its own care:

1. the line parser splits a line into words; inside double quotes it expands `$VAR`,
   understands `\\`, `\\"`, `\\#`, `\\$`, `\\n`, `\\r`, `\\t` and `\\xHH`, and a newline ends
   the line whatever the quoting. `config_word` quotes for this layer losslessly: every
   control character is written as an escape, so no byte of the value can end the line;
2. arguments of sample fetches (`req.hdr(<name>)`) are split on `,` and `)` unless quoted
   inside the word; `fetch_with_name` validates the name as an HTTP token and double-quotes
   it at that level;
3. log-format strings (redirect locations, `http-check send hdr` values) expand `%`:
   `log_format_word` doubles every `%` first.
"""

from __future__ import annotations

import re

from octavia.amphorae.haproxy.errors import ConfigRenderError

_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "#": "\\#", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# RFC 9110 token: header field names and cookie names.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Names HAProxy accepts for proxies, servers and ACLs; ours are UUIDs and fixed words.
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def config_word(value: str) -> str:
    """Quote `value` as one double-quoted word that HAProxy parses back to exactly `value`."""
    if "\x00" in value:
        raise ConfigRenderError("a NUL character cannot be represented in an HAProxy configuration")
    out = ['"']
    for char in value:
        escaped = _SIMPLE_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif _CONTROL.match(char):
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def log_format_word(value: str) -> str:
    """Quote a literal that HAProxy will read as a log-format string (no `%[...]` expansion)."""
    return config_word(value.replace("%", "%%"))


def require_printable(field: str, value: str) -> str:
    """Refuse whitespace and control characters where they can only be an attack (URLs, names)."""
    if not value or _CONTROL.search(value) or any(char.isspace() for char in value):
        raise ConfigRenderError(f"{field} must be non-empty and contain no whitespace or control characters")
    return value


def require_token(field: str, value: str | None) -> str:
    """An HTTP token (header or cookie name); anything else is refused, never rewritten."""
    if value is None or not _TOKEN.fullmatch(value):
        raise ConfigRenderError(f"{field} must be an HTTP token (RFC 9110), got {value!r}")
    return value


def require_name(field: str, value: str) -> str:
    """Identifiers rendered unquoted (ids of objects): refuse anything outside a safe charset."""
    if not _NAME.fullmatch(value):
        raise ConfigRenderError(f"{field} {value!r} is not a safe HAProxy identifier")
    return value


def fetch_with_name(fetch: str, field: str, name: str | None) -> str:
    """`req.hdr("<name>")` as one config word; the name is a token so it holds no `"` or `\\`."""
    token = require_token(field, name)
    return config_word(f'{fetch}("{token}")')
