"""Where an amphora keeps its per-load-balancer files.

The controller (rendering paths into HAProxy configs), the compute driver (writing
the agent's `base_path`) and the agent itself must agree on this directory, so it is
computed in one place.

HAProxy refuses UNIX socket paths over 97 bytes and `{base}/{lb_id}/haproxy.sock`
spends 50 of them on the load balancer id and file name. When the amphora's own
`lbs` directory is too deep for that, the base path is a short symbolic link to it
(`/run/octavia/<id>` as root, `/tmp/octavia-<uid>/<id>` otherwise): socket paths are
measured on the name given, and the files stay inside the amphora directory.
"""

from __future__ import annotations

import contextlib
import os
import stat

from octavia.common import config
from octavia.common.config import CONF

MAX_SOCKET_PATH = 97
LB_SOCKET_SUFFIX = len("/00000000-0000-0000-0000-000000000000/haproxy.sock")
LINK_NAME_LENGTH = 16


class UnsafeLinkDirectory(RuntimeError):
    """The short-link directory exists but is not a private directory of this user."""


def amphorae_root() -> str:
    """The directory holding one directory per local amphora."""
    return CONF.haproxy_amphora.base_path or config.state_path("amphorae")


def amphora_dir(amphora_id: str) -> str:
    """One local amphora's own directory: agent config, certificates, logs, `lbs/`."""
    return os.path.join(amphorae_root(), amphora_id)


def link_directory() -> str:
    """Short directory for the base-path links; private to this user."""
    uid = os.geteuid()
    return "/run/octavia" if uid == 0 else f"/tmp/octavia-{uid}"


def _private_directory(path: str) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise UnsafeLinkDirectory(
            f"{path} must be a directory owned by uid {os.geteuid()}, not group/world-writable"
        )


def _link_path(amphora_id: str) -> str:
    return os.path.join(link_directory(), amphora_id.replace("-", "")[:LINK_NAME_LENGTH])


def _prune_dangling(directory: str) -> None:
    """Links whose amphora directory was removed (the amphora was deleted)."""
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.islink(path) and not os.path.exists(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def remove_base_path_link(amphora_id: str) -> None:
    """Remove the amphora's short link, if it has one and it points into its directory
    (the compute driver deletes the amphora; another amphora's link is never touched)."""
    link = _link_path(amphora_id)
    with contextlib.suppress(OSError):
        if os.readlink(link).startswith(amphora_dir(amphora_id) + os.sep):
            os.unlink(link)


def amphora_base_path(amphora_id: str) -> str:
    """Directory holding `{lb_id}/haproxy.cfg` etc. for one amphora (created if missing).

    The amphora's `lbs` directory itself when short enough, else a short link to it.
    """
    real = os.path.join(amphora_dir(amphora_id), "lbs")
    if len(real) + LB_SOCKET_SUFFIX <= MAX_SOCKET_PATH:
        return real
    os.makedirs(real, exist_ok=True)
    directory = link_directory()
    _private_directory(directory)
    link = _link_path(amphora_id)
    with contextlib.suppress(OSError):
        if os.readlink(link) == real:
            return link
    _prune_dangling(directory)
    temporary = f"{link}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    os.symlink(real, temporary)
    os.replace(temporary, link)
    return link


def forget_amphora_base_path(amphora_id: str) -> None:
    """Remove the amphora's short link, if it has one (the compute driver's delete)."""
    link = _link_path(amphora_id)
    with contextlib.suppress(OSError):
        if os.readlink(link) == os.path.join(amphora_dir(amphora_id), "lbs"):
            os.unlink(link)
