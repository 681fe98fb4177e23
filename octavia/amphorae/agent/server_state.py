"""Which server states carry over a reload (`show servers state` -> `server-state-file`).

HAProxy applies a saved state to the server of the same backend and name in the new
configuration. Two kinds of saved state would outlive their reason and pin a server
DOWN for good, because nothing in the new worker would bring it back:
- a server disabled in the old configuration (config maintenance) and enabled in the
  new one: HAProxy clears the maintenance but keeps the stopped operational state;
- a server found DOWN by health checks that the new configuration no longer checks
  (its health monitor was removed).
Those lines are left out, so such servers start as the new configuration says.
"""

from __future__ import annotations

SECTION_KEYWORDS = {"global", "defaults", "frontend", "backend", "listen", "peers", "resolvers",
                    "userlist", "mailers", "program", "http-errors", "ring", "cache"}
SERVER_SECTIONS = {"backend", "listen"}
CONFIG_MAINTENANCE = 0x04  # SRV_ADMF_CMAINT in srv_admin_state
HEADER_LINES = 2  # the format version line, then the "# be_id be_name ..." line


def checked_servers(config: str) -> set[tuple[str, str]]:
    """(backend, server) pairs that have health checks in `config`."""
    checked: set[tuple[str, str]] = set()
    kind = section = None
    defaults_check = section_check = False
    for raw in config.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] in SECTION_KEYWORDS:
            kind = words[0]
            section = words[1] if kind in SERVER_SECTIONS and len(words) > 1 else None
            if kind == "defaults":
                defaults_check = False
            section_check = defaults_check
        elif words[0] == "default-server":
            section_check = "check" in words[1:]
            if kind == "defaults":
                defaults_check = section_check
        elif words[0] == "server" and section is not None and len(words) > 1:
            if section_check or "check" in words[2:]:
                checked.add((section, words[1]))
    return checked


def carried(state: str, new_config: str) -> str:
    """The part of a `show servers state` dump the new configuration can load as is."""
    lines = state.splitlines()
    checked = checked_servers(new_config)
    kept = lines[:HEADER_LINES]
    for line in lines[HEADER_LINES:]:
        fields = line.split()
        if len(fields) < 7 or not fields[6].isdigit():
            continue
        backend, server, admin_state = fields[1], fields[3], int(fields[6])
        if admin_state & CONFIG_MAINTENANCE or (backend, server) not in checked:
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"
