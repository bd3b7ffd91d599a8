"""A proxy.py plugin for the tests: the proxy connects upstream from 127.0.0.2, so that the sandbox (on
127.0.0.1) can tell a request that came through the proxy from one that came straight from the client.

proxy.py ignores the source address a plugin asks for when the upstream host is an IP literal (the
sandbox's URLs are), so the plugin also makes its upstream connection honour it.
"""

import socket

import proxy.core.connection.server as server_module
from proxy.http.proxy import HttpProxyBasePlugin

SOURCE = ("127.0.0.2", 0)
_connect = server_module.new_socket_connection


def _connect_from(addr, timeout=10.0, connect_timeout=10.0, source_address=None):
    if source_address is None:
        return _connect(addr, timeout=timeout, connect_timeout=connect_timeout)
    connection = socket.create_connection(addr, timeout=connect_timeout, source_address=source_address)
    connection.settimeout(timeout)
    return connection


server_module.new_socket_connection = _connect_from


class SourceAddress(HttpProxyBasePlugin):
    def resolve_dns(self, host, port):
        return None, SOURCE
