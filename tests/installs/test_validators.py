"""SIP domains: lower-case host names of at least two labels."""

import pytest
from django.core.exceptions import ValidationError

from installs.validators import validate_sip_domain

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
