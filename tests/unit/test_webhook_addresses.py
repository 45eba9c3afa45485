"""The webhook address rule alone: spellings of internal addresses, reserved names, DNS answers."""

from __future__ import annotations

import socket

import pytest

from notifications.addresses import AddressRefused, Resolver, checked_addresses, refuse_internal_url

INTERNAL = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:5432/",
    "http://[::1]/hook",
    "http://10.0.0.1/hook",
    "http://172.16.5.4/",
    "http://192.168.1.20/",
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud's metadata service (shared address space)
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",  # AWS's IPv6 metadata service
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254, IPv4-mapped
    "http://[64:ff9b::a00:1]/",  # 10.0.0.1 through NAT64
    "http://[2002:7f00:1::]/",  # 127.0.0.1 through 6to4
    "http://[ff02::1]/",
    "http://[::]/",
    "http://localhost:8000/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://printer.local/",
    "http://intranet/",
]
ODD_SPELLINGS = ["0x7f.0.0.1", "0x7f000001", "2130706433", "017700000001", "0177.0.0.1", "127.1", "0", "0x0a.1"]


def nowhere(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def answers(*addresses: str) -> Resolver:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_address_is_refused(url: str) -> None:
    with pytest.raises(AddressRefused):
        refuse_internal_url(url, allow_private=False, resolve=nowhere)


@pytest.mark.parametrize("host", ODD_SPELLINGS)
def test_odd_spellings_of_internal_ipv4_are_refused(host: str) -> None:
    """Spellings inet_aton(3) and so the resolver take, given straight to the check (not as a URL normalizes)."""
    with pytest.raises(AddressRefused):
        checked_addresses(host, 80, allow_private=False, resolve=answers("93.184.215.14"))


@pytest.mark.parametrize("url", INTERNAL)
def test_allowing_private_addresses_lets_each_pass(url: str) -> None:
    refuse_internal_url(url, allow_private=True, resolve=answers("127.0.0.1"))


def test_a_public_address_or_name_passes() -> None:
    refuse_internal_url("https://93.184.215.14/hook", allow_private=False, resolve=nowhere)
    refuse_internal_url("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", allow_private=False, resolve=nowhere)
    refuse_internal_url("https://hooks.example.org/in", allow_private=False, resolve=answers("93.184.215.14"))


def test_a_name_that_resolves_inside_is_refused_even_among_public_answers() -> None:
    with pytest.raises(AddressRefused):
        refuse_internal_url("https://rebind.example.org/", allow_private=False, resolve=answers("10.0.0.7"))
    with pytest.raises(AddressRefused):
        refuse_internal_url(
            "https://rebind.example.org/", allow_private=False, resolve=answers("93.184.215.14", "127.0.0.1")
        )


def test_a_name_that_does_not_resolve_yet_passes_registration_but_gives_no_address() -> None:
    refuse_internal_url("https://not-yet.example.org/", allow_private=False, resolve=nowhere)
    with pytest.raises(OSError):
        checked_addresses("not-yet.example.org", 443, allow_private=False, resolve=nowhere)


def test_the_addresses_connected_to_are_the_ones_checked() -> None:
    got = checked_addresses("hooks.example.org", 443, False, answers("93.184.215.14", "2606:2800:21f:cb07::1"))
    assert got == ["93.184.215.14", "2606:2800:21f:cb07::1"]
    assert checked_addresses("0x7f.0.0.1", 80, True, nowhere) == ["127.0.0.1"]
