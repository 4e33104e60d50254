"""A free TCP port on loopback, for servers the tests and benchmarks start. No other imports,
so a benchmark can use it without loading the test set-up."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the OS picks it; another process may take it later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
