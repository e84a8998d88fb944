"""Which addresses outbound webhooks may reach, and how a request is pinned to the address checked."""

from __future__ import annotations

import ipaddress

import pytest

from onboardflow.outbound.addresses import AddressRefused, HostUnresolved, refusal, targets

REFUSED = {
    "127.0.0.1": "a loopback address", "::1": "a loopback address", "10.0.0.8": "a private address",
    "172.16.5.4": "a private address", "192.168.1.1": "a private address", "fd00::5": "a private address",
    "169.254.169.254": "a link-local address", "fe80::1": "a link-local address",
    "0.0.0.0": "an unspecified address", "::": "an unspecified address", "224.0.0.1": "a multicast address",
    "240.0.0.1": "a reserved address", "100.64.0.1": "a non-public address",
    "::ffff:127.0.0.1": "a loopback address",  # IPv4-mapped
    "2002:a00:1::": "a private address",  # 6to4 carrying 10.0.0.1
    "64:ff9b::a9fe:a9fe": "a link-local address",  # NAT64 carrying 169.254.169.254
}


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_addresses_that_are_not_public_are_named_for_what_they_are(address):
    assert refusal(ipaddress.ip_address(address)) == REFUSED[address]


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert refusal(ipaddress.ip_address(address)) is None


def test_an_ip_literal_in_a_refused_range_is_refused_without_a_look_up():
    def resolve(host, port):
        raise AssertionError("no look-up for an address")

    said = r"http://\[fd00::5\]:8080/h leads to fd00::5, a private address"
    with pytest.raises(AddressRefused, match=said):
        targets("http://[fd00::5]:8080/h", allow_private=False, resolve=resolve)


def test_every_address_a_name_resolves_to_is_checked():
    with pytest.raises(AddressRefused, match="leads to 127.0.0.1 .hooks.example resolves to it."):
        targets("https://hooks.example/h", allow_private=False,
                resolve=lambda host, port: ["93.184.215.14", "127.0.0.1"])


def test_the_refusal_says_which_setting_allows_private_addresses():
    with pytest.raises(AddressRefused) as refused:
        targets("http://10.0.0.8/h", allow_private=False)

    assert "ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE=true" in str(refused.value)


def test_a_public_name_is_sent_to_its_addresses_with_the_name_kept_for_host_and_tls():
    asked = []

    def resolve(host, port):
        asked.append((host, port))
        return ["93.184.215.14", "2606:2800:21f:cb07::1"]

    found = targets("https://hooks.example:8443/in?x=1", allow_private=False, resolve=resolve)

    assert asked == [("hooks.example", 8443)]
    assert [t.url for t in found] == ["https://93.184.215.14:8443/in?x=1", "https://[2606:2800:21f:cb07::1]:8443/in?x=1"]
    assert found[0].headers == {"host": "hooks.example:8443", "connection": "close"}
    assert found[0].extensions == {"sni_hostname": "hooks.example"}


def test_plain_http_keeps_the_name_in_the_host_header_only():
    [found] = targets("http://hooks.example/in", allow_private=False, resolve=lambda host, port: ["8.8.8.8"])

    assert (found.url, found.headers["host"], found.extensions) == ("http://8.8.8.8/in", "hooks.example", {})


def test_with_the_setting_private_addresses_are_allowed():
    [found] = targets("http://intranet.local/in", allow_private=True, resolve=lambda host, port: ["10.0.0.8"])

    assert found.url == "http://10.0.0.8/in"


def test_a_name_that_resolves_to_nothing_can_be_tried_again_later():
    def resolve(host, port):
        raise HostUnresolved(f"could not resolve {host}: no such host")

    with pytest.raises(HostUnresolved, match="no such host"):
        targets("https://gone.example/h", allow_private=False, resolve=resolve)
    with pytest.raises(HostUnresolved, match="resolves to no address"):
        targets("https://gone.example/h", allow_private=False, resolve=lambda host, port: [])
