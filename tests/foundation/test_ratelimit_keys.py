"""What a booking limit counts as one inbox and as one client (foundation/ratelimit.py)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundation.ratelimit import client_of, inbox_of

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20)
DOMAIN = st.sampled_from(["kommun.example.se", "region.example.se", "gmail.com"])


@given(local=LOCAL, tag=LOCAL, domain=DOMAIN)
def test_a_subaddress_tag_is_the_same_inbox(local: str, tag: str, domain: str) -> None:
    assert inbox_of(f"{local}+{tag}@{domain}") == inbox_of(f"{local}@{domain}")


@given(a=LOCAL, b=LOCAL)
def test_different_local_parts_elsewhere_stay_different(a: str, b: str) -> None:
    if a != b and "+" not in a + b:
        assert inbox_of(f"{a}@kommun.example.se") != inbox_of(f"{b}@kommun.example.se")


@pytest.mark.parametrize(
    ("email", "inbox"),
    [
        ("anna.berg@kommun.example.se", "anna.berg@kommun.example.se"),  # dots count here
        ("a.n.n.a@gmail.com", "anna@gmail.com"),
        ("anna+kafe@googlemail.com", "anna@gmail.com"),
        ("+only@kommun.example.se", "+only@kommun.example.se"),  # no local part before it
    ],
)
def test_examples_of_inboxes(email: str, inbox: str) -> None:
    assert inbox_of(email) == inbox


@given(st.ip_addresses(v=6))
def test_an_ipv6_client_is_its_64_network(address: ipaddress.IPv6Address) -> None:
    if address.ipv4_mapped is None:
        network = ipaddress.IPv6Network(client_of(str(address)))
        assert network.prefixlen == 64
        assert address in network


@pytest.mark.parametrize(
    ("host", "client"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # an IPv4 client on a dual-stack socket
        ("unknown", "unknown"),
    ],
)
def test_ipv4_clients_are_their_address(host: str, client: str) -> None:
    assert client_of(host) == client
