"""TLS for the SMTP client's tests: a test CA, a server context, a client context that trusts it.

The recording SMTP server itself is in tests/conftest.py, since the outbox's tests use it too.
"""

from __future__ import annotations

import ssl

import pytest
import trustme

from tests.ports import free_port


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_tls(test_ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="session")
def client_tls(test_ca: trustme.CA) -> ssl.SSLContext:
    """A verifying client context that trusts the test CA (and nothing else)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies host name and chain
    test_ca.configure_trust(context)
    return context
