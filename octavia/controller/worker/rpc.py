"""oslo.messaging plumbing between the amphora provider and the controller worker.

The all-in-one uses oslo.messaging's in-process `fake://` transport; clustered sites set
`[DEFAULT] transport_url = rabbit://...` and run `octavia-worker` processes.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg

from octavia.common.config import CONF

TOPIC = "octavia_prov"
VERSION = "2.0"
NAMESPACE = "controller"

messaging_opts = [
    cfg.StrOpt("topic", default=TOPIC, help="RPC topic the controller workers consume."),
]
CONF.register_opts(messaging_opts, group="oslo_messaging")

_lock = threading.Lock()


def transport_url() -> str:
    """[DEFAULT] transport_url; the embedded default is the in-process transport."""
    messaging.TransportURL.parse(CONF, "fake:/")  # registers the option
    CONF.set_default("transport_url", "fake:/")
    return str(CONF.transport_url)


@functools.cache
def _transport() -> Any:
    return messaging.get_rpc_transport(CONF, url=transport_url())


def client() -> messaging.RPCClient:
    target = messaging.Target(topic=CONF.oslo_messaging.topic, namespace=NAMESPACE, version=VERSION)
    return messaging.get_rpc_client(_transport(), target)


def server(endpoints: list[Any]) -> messaging.MessageHandlingServer:
    target = messaging.Target(topic=CONF.oslo_messaging.topic, server=CONF.host,
                              namespace=NAMESPACE, version=VERSION, fanout=False)
    return messaging.get_rpc_server(_transport(), target, endpoints, executor="threading")


def cast(method: str, **kwargs: Any) -> None:
    """Fire-and-forget call to any worker."""
    client().cast({}, method, **kwargs)
