"""SIP domains: lower-case host names of at least two labels."""

import pytest
from django.core.exceptions import ValidationError

from installs.validators import normalise_pbx_address, validate_pbx_address, validate_sip_domain

GOOD_DOMAINS = ["acme.pbx.test", "a.b", "head-office.acme.pbx.test", "x1.pbx.test"]

BAD_DOMAINS = [
    pytest.param("acme", id="single-label"),
    pytest.param("acme..pbx.test", id="empty-label"),
    pytest.param(".acme.pbx.test", id="leading-dot"),
    pytest.param("acme.pbx.test.", id="trailing-dot"),
    pytest.param("-acme.pbx.test", id="label-starts-with-hyphen"),
    pytest.param("acme-.pbx.test", id="label-ends-with-hyphen"),
    pytest.param("acme_pbx.test", id="underscore"),
    pytest.param("acme pbx.test", id="space"),
    pytest.param("acme\n.pbx.test", id="newline-inside"),
    pytest.param("192.0.2.1", id="ipv4-literal"),
    pytest.param("[2001:db8::1]", id="ipv6-literal"),
    pytest.param("sip:acme.pbx.test", id="uri"),
    pytest.param(f"{'a' * 64}.pbx.test", id="label-over-63"),
    pytest.param(".".join(["a" * 63] * 4), id="over-253"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("domain", GOOD_DOMAINS)
def test_host_name_is_accepted(domain):
    validate_sip_domain(domain)


@pytest.mark.parametrize("domain", BAD_DOMAINS)
def test_malformed_domain_is_refused(domain):
    with pytest.raises(ValidationError) as caught:
        validate_sip_domain(domain)
    assert caught.value.code == "invalid_domain"


@pytest.mark.parametrize("domain", ["ACME.pbx.test", " acme.pbx.test", "acme.pbx.test\n"])
def test_domain_not_in_canonical_form_is_refused(domain):
    with pytest.raises(ValidationError) as caught:
        validate_sip_domain(domain)
    assert caught.value.code == "not_canonical"


# --- The PBX address -----------------------------------------------------------------------------

GOOD_PBX_ADDRESSES = [
    ("sip:10.0.0.5", "sip:10.0.0.5"),
    ("sip:10.0.0.5:5060", "sip:10.0.0.5:5060"),
    ("sip:pbx.acme.example", "sip:pbx.acme.example"),
    ("sip:pbx:5080;transport=tcp", "sip:pbx:5080;transport=tcp"),
    ("SIP:PBX.Acme.Example;TRANSPORT=TLS", "sip:pbx.acme.example;transport=tls"),
    ("sip:[2001:DB8::5]:5061;transport=tls", "sip:[2001:db8::5]:5061;transport=tls"),
    ("  sip:10.0.0.5:05060 ", "sip:10.0.0.5:5060"),
    ("", ""),
]
BAD_PBX_ADDRESSES = [
    pytest.param("10.0.0.5", id="no-scheme"),
    pytest.param("sips:10.0.0.5", id="sips"),
    pytest.param("tel:+442071234567", id="tel"),
    pytest.param("sip:", id="no-host"),
    pytest.param("sip:100@10.0.0.5", id="user-part"),
    pytest.param("sip:10.0.0.5:0", id="port-0"),
    pytest.param("sip:10.0.0.5:70000", id="port-too-big"),
    pytest.param("sip:10.0.0.5:", id="empty-port"),
    pytest.param("sip:10.0.0.5;transport=sctp", id="unknown-transport"),
    pytest.param("sip:10.0.0.5;lr", id="other-parameter"),
    pytest.param("sip:10.0.0.5?X=1", id="header"),
    pytest.param("sip:2001:db8::5", id="ipv6-without-brackets"),
    pytest.param("sip:[2001:db8::zz]", id="bad-ipv6"),
    pytest.param("sip:[10.0.0.5]", id="ipv4-in-brackets"),
    pytest.param("sip:pbx_acme.example", id="underscore-host"),
    pytest.param("sip:-pbx.example", id="hyphen-first"),
    pytest.param("sip:pbx .example", id="space"),
    pytest.param("sip:pbx\n.example", id="newline-inside"),
]


@pytest.mark.parametrize(("given", "stored"), GOOD_PBX_ADDRESSES)
def test_a_pbx_address_is_written_in_one_form(given, stored):
    assert normalise_pbx_address(given) == stored
    validate_pbx_address(stored)


@pytest.mark.parametrize("address", BAD_PBX_ADDRESSES)
def test_a_malformed_pbx_address_is_refused(address):
    with pytest.raises(ValidationError):
        normalise_pbx_address(address)


def test_only_the_one_form_is_valid_in_the_model():
    with pytest.raises(ValidationError) as caught:
        validate_pbx_address("SIP:10.0.0.5")
    assert caught.value.code == "not_canonical"
