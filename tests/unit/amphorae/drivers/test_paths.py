"""Base paths keep HAProxy's UNIX socket paths under its 97-byte limit."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

from octavia.amphorae.drivers import paths
from octavia.common.config import CONF


@pytest.fixture
def root(tmp_path: os.PathLike[str]) -> Iterator[str]:
    def use(path: str) -> str:
        CONF.set_override("base_path", path, group="haproxy_amphora")
        return path

    yield use  # type: ignore[misc]
    CONF.clear_override("base_path", group="haproxy_amphora")
    links = paths.link_directory()
    for name in os.listdir(links) if os.path.isdir(links) else []:
        with contextlib.suppress(OSError):
            if os.readlink(os.path.join(links, name)).startswith(str(tmp_path)):
                os.unlink(os.path.join(links, name))


def _socket_path(base: str) -> str:
    return os.path.join(base, str(uuid.uuid4()), "haproxy.sock")


def test_short_root_is_used_directly(root, tmp_path: os.PathLike[str]) -> None:  # type: ignore[no-untyped-def]
    short = root("/tmp/o")
    amphora_id = str(uuid.uuid4())
    base = paths.amphora_base_path(amphora_id)
    assert base == f"{short}/{amphora_id}/lbs" == os.path.join(paths.amphora_dir(amphora_id), "lbs")
    assert len(_socket_path(base)) <= paths.MAX_SOCKET_PATH


def test_deep_root_gets_a_short_link(root, tmp_path: os.PathLike[str]) -> None:  # type: ignore[no-untyped-def]
    deep = root(os.path.join(str(tmp_path), "a-rather-long-state-directory", "amphorae"))
    amphora_id = str(uuid.uuid4())
    base = paths.amphora_base_path(amphora_id)
    real = os.path.join(deep, amphora_id, "lbs")
    assert len(_socket_path(real)) > paths.MAX_SOCKET_PATH
    assert len(_socket_path(base)) <= paths.MAX_SOCKET_PATH
    assert os.path.dirname(base) == paths.link_directory()
    assert os.path.realpath(base) == real and os.path.isdir(real)
    assert paths.amphora_base_path(amphora_id) == base
    stat_info = os.stat(paths.link_directory())
    assert stat_info.st_mode & 0o077 == 0


def test_links_of_deleted_amphorae_are_pruned(root, tmp_path: os.PathLike[str]) -> None:  # type: ignore[no-untyped-def]
    deep = root(os.path.join(str(tmp_path), "a-rather-long-state-directory", "amphorae"))
    gone = str(uuid.uuid4())
    gone_link = paths.amphora_base_path(gone)
    os.rmdir(os.path.join(deep, gone, "lbs"))
    paths.amphora_base_path(str(uuid.uuid4()))
    assert not os.path.lexists(gone_link)


def test_forget_removes_only_this_amphoras_link(root, tmp_path: os.PathLike[str]) -> None:  # type: ignore[no-untyped-def]
    root(os.path.join(str(tmp_path), "a-rather-long-state-directory", "amphorae"))
    kept, gone = str(uuid.uuid4()), str(uuid.uuid4())
    kept_link, gone_link = paths.amphora_base_path(kept), paths.amphora_base_path(gone)
    paths.forget_amphora_base_path(gone)
    paths.forget_amphora_base_path(str(uuid.uuid4()))
    assert not os.path.lexists(gone_link)
    assert os.path.islink(kept_link)
