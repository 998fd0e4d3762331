"""The HTTP API Kamailio calls: GET register/check and POST register/event."""

import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from audit.trail import Actor
from registrations.models import EventKind, Lockout, RegistrationLogEntry
from tests.conftest import EDGE_SECRET, GOOD_PIN
from tests.factories import PbxUserFactory, SipCredentialFactory
from users import services

from .helpers import (
    CHECK_URL,
    EVENT_URL,
    HANDSET_UA,
    TRUSTED_IP,
    UNTRUSTED_IP,
    basic,
    check,
    check_params,
    event_params,
    expected_ha1,
    post_form,
    report,
)

pytestmark = pytest.mark.django_db


# --- Allow -----------------------------------------------------------------------------------


def test_allowed_register_gets_200_with_the_ha1_of_extension_domain_and_pin(
    edge_client, hot_desk_user
):
    response = check(edge_client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "allow": True,
        "ha1": expected_ha1("1001", "acme.pbx.test", GOOD_PIN),
        "reason": "ok",
        # The install's registration expiry: the longest binding the edge grants.
        "expires": hot_desk_user.install.registration_expiry,
    }


def test_ipv4_mapped_ipv6_source_is_judged_against_ipv4_ranges(edge_client, hot_desk_user):
    allowed = check(edge_client, ip="::ffff:203.0.113.7")
    denied = check(edge_client, ip="::ffff:192.0.2.7")

    assert allowed.status_code == 200
    assert allowed.json()["allow"] is True
    assert denied.status_code == 403
    assert denied.json()["reason"] == "untrusted_source"


@pytest.mark.parametrize("domain", ["ACME.PBX.TEST", "Acme.Pbx.Test", " acme.pbx.test "])
def test_domain_matching_ignores_case_and_the_ha1_uses_the_canonical_domain(
    edge_client, hot_desk_user, domain
):
    response = check(edge_client, domain=domain)

    assert response.status_code == 200
    assert response.json()["ha1"] == expected_ha1("1001", "acme.pbx.test", GOOD_PIN)


def test_deregistration_of_a_user_whose_access_was_just_revoked_is_allowed(
    edge_client, hot_desk_user, portal_admin
):
    before = services.snapshot(hot_desk_user)
    hot_desk_user.hot_desk_access = False
    services.save_user(
        user=hot_desk_user, pin=None, actor=Actor.for_user(portal_admin), before=before
    )

    logging_out = check(edge_client, expires="0")
    logging_in = check(edge_client, expires="500")

    assert logging_out.status_code == 200
    assert logging_out.json()["ha1"] == expected_ha1("1001", "acme.pbx.test", GOOD_PIN)
    assert logging_in.status_code == 403
    assert logging_in.json() == {"allow": False, "reason": "no_hot_desk_access"}


# --- Deny ------------------------------------------------------------------------------------


def _no_change(install, hot_desk_user):
    return {}


def _user_without_access(install, hot_desk_user):
    PbxUserFactory(install=install, extension="1002", hot_desk_access=False, pin="1357")
    return {"user": "1002"}


def _user_without_pin(install, hot_desk_user):
    PbxUserFactory(install=install, extension="1003", hot_desk_access=True)
    return {"user": "1003"}


def _locked_user(install, hot_desk_user):
    Lockout.objects.create(
        pbx_user=hot_desk_user, locked_indefinitely=True, locked_at=timezone.now()
    )
    return {}


@pytest.mark.parametrize(
    ("reason", "arrange", "overrides"),
    [
        ("unknown_domain", _no_change, {"domain": "nowhere.pbx.test"}),
        ("unknown_extension", _no_change, {"user": "1999"}),
        ("no_hot_desk_access", _user_without_access, {}),
        ("no_pin_set", _user_without_pin, {}),
        ("malformed_source", _no_change, {"ip": "203.0.113.7:5060"}),
        ("malformed_source", _no_change, {"ip": "203.0.113.256"}),
        ("malformed_source", _no_change, {"ip": "fe80::1%eth0"}),
        ("malformed_source", _no_change, {"ip": "203.0.113.0/24"}),
        ("untrusted_source", _no_change, {"ip": UNTRUSTED_IP}),
        ("untrusted_source", _no_change, {"ip": "2001:db8::7"}),
        ("locked", _locked_user, {}),
    ],
)
def test_each_denial_is_403_with_its_reason_and_no_ha1(
    edge_client, install, hot_desk_user, reason, arrange, overrides
):
    overrides = {**overrides, **arrange(install, hot_desk_user)}

    response = check(edge_client, **overrides)

    assert response.status_code == 403
    body = response.json()
    # An unknown domain reads as an untrusted source on the wire; the log keeps the truth.
    on_the_wire = "untrusted_source" if reason == "unknown_domain" else reason
    assert body == {"allow": False, "reason": on_the_wire}
    assert "ha1" not in body
    assert RegistrationLogEntry.objects.get(kind="check").reason == reason


def test_locked_user_is_denied_even_from_a_trusted_source_with_every_fact_right(
    edge_client, hot_desk_user
):
    assert check(edge_client).status_code == 200
    Lockout.objects.update_or_create(
        pbx_user=hot_desk_user,
        defaults={"locked_until": timezone.now() + timedelta(minutes=5)},
    )

    response = check(edge_client)

    assert response.status_code == 403
    assert response.json()["reason"] == "locked"


# --- Malformed requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"domain": None}, "domain"),
        ({"user": None}, "user"),
        ({"ip": None}, "ip"),
        ({"domain": "   "}, "domain"),
        ({"port": "abc"}, "port"),
        ({"port": "65536"}, "port"),
        ({"expires": "-1"}, "expires"),
        ({"expires": "soon"}, "expires"),
        ({"proto": "carrier-pigeon"}, "proto"),
        ({"user": "1001\x00"}, "user"),
        ({"ip": "203.0.113.7\x00"}, "ip"),
        ({"ua": "Handset\x00"}, "ua"),
        ({"domain": "acme\x00.pbx.test"}, "domain"),
        ({"domain": "a" * 254}, "domain"),
    ],
)
def test_missing_or_garbage_check_parameter_is_400_naming_it(
    edge_client, hot_desk_user, overrides, field
):
    response = check(edge_client, **overrides)

    assert response.status_code == 400
    body = response.json()
    assert body["allow"] is False
    assert body["reason"] == "bad_request"
    assert body["detail"].startswith(f"{field}:")
    assert "ha1" not in body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event": None}, "event"),
        ({"event": "exploded"}, "event"),
        ({"callid": None}, "callid"),
        ({"cseq": None}, "cseq"),
        ({"cseq": "-3"}, "cseq"),
        ({"contact": "<sip:1001@203.0.113.7>\x00"}, "contact"),
        ({"proto": "carrier-pigeon"}, "proto"),
    ],
)
def test_missing_or_garbage_report_parameter_is_400_and_counts_nothing(
    edge_client, hot_desk_user, overrides, field
):
    response = post_form(edge_client, event_params("auth_failed", **overrides))

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}:")
    assert not Lockout.objects.exists()
    assert not RegistrationLogEntry.objects.exists()


# --- Credentials -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="no-header"),
        pytest.param(basic("edge-1", "not-the-secret"), id="wrong-secret"),
        pytest.param(basic("edge-9", EDGE_SECRET), id="unknown-name"),
        pytest.param(basic("edge-1", ""), id="empty-secret"),
        pytest.param("Basic", id="scheme-only"),
        pytest.param("Basic !!!not-base64!!!", id="not-base64"),
        pytest.param("Basic ZWRnZS0x", id="no-colon"),
        pytest.param("Basic //79", id="not-utf8"),
        pytest.param("Basic ñ", id="non-ascii"),
        pytest.param("Bearer edge-1", id="other-scheme"),
        pytest.param(basic("edge\x00-1", EDGE_SECRET), id="nul-in-name"),
        pytest.param(basic("x" * 300, EDGE_SECRET), id="overlong-name"),
    ],
)
def test_check_without_a_valid_credential_is_401(client, edge_credential, hot_desk_user, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}

    response = client.get(CHECK_URL, check_params(), **extra)

    assert response.status_code == 401
    assert response.json() == {"allow": False, "reason": "unauthorized"}
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert not RegistrationLogEntry.objects.exists()


def test_rejected_credential_is_logged_with_the_callers_address(client, edge_credential, caplog):
    with caplog.at_level(logging.WARNING, logger="registrations.api"):
        client.get(
            CHECK_URL,
            check_params(),
            HTTP_AUTHORIZATION=basic("edge-1", "wrong"),
            REMOTE_ADDR="198.51.100.20",
        )

    assert any("198.51.100.20" in message for message in caplog.messages)
    assert not any("wrong" in message for message in caplog.messages)


def test_report_without_a_valid_credential_is_401_and_counts_nothing(
    client, edge_credential, hot_desk_user
):
    response = post_form(
        client, event_params("auth_failed"), HTTP_AUTHORIZATION=basic("edge-1", "guess")
    )

    assert response.status_code == 401
    assert not Lockout.objects.exists()


def test_credential_is_refused_outside_its_allowed_networks(client, hot_desk_user):
    SipCredentialFactory(
        name="edge-2", secret="s3cret-for-edge-2", allowed_networks="198.51.100.0/24"
    )
    header = basic("edge-2", "s3cret-for-edge-2")

    inside = client.get(
        CHECK_URL, check_params(), HTTP_AUTHORIZATION=header, REMOTE_ADDR="198.51.100.10"
    )
    outside = client.get(
        CHECK_URL, check_params(), HTTP_AUTHORIZATION=header, REMOTE_ADDR="192.0.2.10"
    )

    assert inside.status_code == 200
    assert outside.status_code == 401


def test_deactivated_credential_is_refused(client, hot_desk_user):
    SipCredentialFactory(name="edge-3", secret="s3cret-for-edge-3", is_active=False)

    response = client.get(
        CHECK_URL, check_params(), HTTP_AUTHORIZATION=basic("edge-3", "s3cret-for-edge-3")
    )

    assert response.status_code == 401


def test_portal_login_session_cannot_use_the_api(portal_client, hot_desk_user):
    response = portal_client.get(CHECK_URL, check_params())

    assert response.status_code == 401


def test_edge_posts_reports_without_a_csrf_token(edge_credential, hot_desk_user):
    strict = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=basic("edge-1", EDGE_SECRET))

    response = report(strict, "auth_failed")

    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": False}
    assert Lockout.objects.get(pbx_user=hot_desk_user).consecutive_failures == 1


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("post", CHECK_URL, "GET"),
        ("put", CHECK_URL, "GET"),
        ("delete", CHECK_URL, "GET"),
        ("get", EVENT_URL, "POST"),
        ("patch", EVENT_URL, "POST"),
    ],
)
def test_wrong_method_is_405_in_json(edge_client, method, url, allowed):
    response = getattr(edge_client, method)(url)

    assert response.status_code == 405
    assert response.json() == {"allow": False, "reason": "method_not_allowed"}
    assert allowed in response["Allow"]


# --- Decision log ------------------------------------------------------------------------------


def test_every_check_is_logged_with_its_request_and_decision(edge_client, install, hot_desk_user):
    check(edge_client, port="5062", proto="TLS", expires="300", callid="call-1@203.0.113.7")
    check(edge_client, ip=UNTRUSTED_IP, port="5060", expires="0")

    denied, allowed = RegistrationLogEntry.objects.order_by("-pk")[:2]
    assert allowed.kind == EventKind.CHECK
    assert allowed.install == install
    assert allowed.domain == "acme.pbx.test"
    assert allowed.extension == "1001"
    assert (allowed.source_ip, allowed.source_port, allowed.proto) == (TRUSTED_IP, 5062, "tls")
    assert allowed.user_agent == HANDSET_UA
    assert allowed.expires == 300
    assert allowed.call_id == "call-1@203.0.113.7"
    assert (allowed.allowed, allowed.reason) == (True, "ok")
    assert allowed.edge == "edge-1"
    assert (denied.allowed, denied.reason) == (False, "untrusted_source")
    assert (denied.source_ip, denied.source_port, denied.expires) == (UNTRUSTED_IP, 5060, 0)


def test_check_for_an_unknown_domain_is_logged_without_an_install(edge_client, hot_desk_user):
    check(edge_client, domain="nowhere.pbx.test")

    entry = RegistrationLogEntry.objects.get()
    assert entry.install is None
    assert (entry.domain, entry.reason, entry.allowed) == (
        "nowhere.pbx.test",
        "unknown_domain",
        False,
    )


def test_every_report_is_logged_with_its_request_and_outcome(edge_client, install, hot_desk_user):
    report(edge_client, "auth_failed", cseq="7", ua="Handset/2", port="5070", expires="600")
    report(edge_client, "registered", cseq="8", contact="<sip:1001@203.0.113.7:5070>")

    failed = RegistrationLogEntry.objects.get(kind=EventKind.AUTH_FAILED)
    registered = RegistrationLogEntry.objects.get(kind=EventKind.REGISTERED)
    assert failed.install == install
    assert (failed.extension, failed.source_ip, failed.source_port) == ("1001", TRUSTED_IP, 5070)
    assert (failed.user_agent, failed.expires, failed.cseq) == ("Handset/2", 600, 7)
    assert (failed.allowed, failed.reason) == (False, "wrong_pin")
    assert (registered.allowed, registered.reason) == (True, "ok")
    assert registered.contact == "<sip:1001@203.0.113.7:5070>"


# --- Fuzzing: nothing a client sends is a 500 ------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=80)
_well_formed_check = {
    "domain": st.sampled_from(["acme.pbx.test", "ACME.pbx.test", "other.pbx.test"]),
    "user": st.sampled_from(["1001", "1002", "1999"]),
    "ip": st.sampled_from(
        [TRUSTED_IP, UNTRUSTED_IP, "::ffff:203.0.113.7", "[2001:db8::1]", "203.0.113.7/32"]
    ),
}
_well_formed_extras = {
    "port": st.integers(0, 65535).map(str),
    "proto": st.sampled_from(["udp", "TCP", "tls", "ws", "wss", "sctp"]),
    "expires": st.integers(0, 2**31 - 1).map(str),
    "ua": _text,
    "callid": _text,
}
_garbage = {
    "domain": _text,
    "user": _text,
    "ip": _text,
    "port": st.integers().map(str) | _text,
    "proto": _text,
    "expires": st.integers().map(str) | _text,
    "ua": _text,
    "callid": _text,
}
# Well-formed requests (which get 200 and 403), the same fields holding anything (mostly 400),
# and dictionaries of anything at all.
_query = st.one_of(
    st.fixed_dictionaries(_well_formed_check, optional=_well_formed_extras),
    st.fixed_dictionaries(
        {}, optional={k: _well_formed_check.get(k, v) | v for k, v in _garbage.items()}
    ),
    st.dictionaries(_text, _text),
)
_fuzz = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _assert_json_answer(response, *, allowed_statuses=frozenset({200, 400, 403})):
    event(f"HTTP {response.status_code}")  # see --hypothesis-show-statistics
    assert response.status_code in allowed_statuses
    body = json.loads(response.content)
    assert isinstance(body, dict)
    if response.status_code == 200 and "allow" in body:
        assert body["allow"] is True
        assert len(body["ha1"]) == 32
    else:
        assert "ha1" not in body


def test_a_check_with_too_many_parameters_is_400(edge_client, hot_desk_user, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 12
    query = {**check_params(), **{f"extra{n}": "1" for n in range(8)}}

    response = edge_client.get(CHECK_URL, query)

    assert response.status_code == 400
    assert response.json()["detail"] == "query: too many parameters"


def test_a_repeated_check_parameter_counts_with_its_last_value(edge_client, hot_desk_user):
    response = edge_client.get(CHECK_URL, {**check_params(), "user": ["1999", "1001"]})

    assert response.json()["allow"] is True


@_fuzz
@given(query=_query)
def test_any_check_query_gets_a_json_answer_never_a_500(edge_client, hot_desk_user, query):
    _assert_json_answer(edge_client.get(CHECK_URL, query))


@_fuzz
@given(raw=st.binary(max_size=300))
def test_any_raw_query_string_gets_a_json_answer_never_a_500(edge_client, hot_desk_user, raw):
    # A WSGI server hands the query string over as latin-1 text of the raw bytes.
    response = edge_client.get(CHECK_URL, QUERY_STRING=raw.decode("latin-1"))

    _assert_json_answer(response)


_well_formed_event = {
    **_well_formed_check,
    "event": st.sampled_from(["registered", "unregistered", "auth_failed"]),
    "callid": st.sampled_from(["c1@203.0.113.7", "c2@203.0.113.7"]),
    "cseq": st.integers(0, 2**31 - 1).map(str),
}
_event_extras = {
    **{k: v for k, v in _well_formed_extras.items() if k != "callid"},
    "contact": st.sampled_from(["<sip:1001@203.0.113.7>", "<sip:1001@203.0.113.8>"]) | _text,
}
_form = st.one_of(
    st.fixed_dictionaries(_well_formed_event, optional=_event_extras),
    st.fixed_dictionaries(
        {},
        optional={
            **{k: _well_formed_event.get(k, v) | v for k, v in _garbage.items()},
            "event": _well_formed_event["event"] | _text,
            "cseq": st.integers().map(str) | _text,
            "contact": _text,
        },
    ),
    st.dictionaries(_text, _text),
)


@_fuzz
@given(form=_form)
def test_any_report_form_gets_a_json_answer_never_a_500(edge_client, hot_desk_user, form):
    _assert_json_answer(post_form(edge_client, urlencode(form)))


@_fuzz
@given(body=st.binary(max_size=300))
def test_any_raw_report_body_gets_a_json_answer_never_a_500(edge_client, hot_desk_user, body):
    _assert_json_answer(post_form(edge_client, body))


@_fuzz
@given(header=st.text(st.characters(max_codepoint=255), max_size=120))
def test_any_garbage_authorization_header_is_401_never_a_500(client, edge_credential, header):
    response = client.get(CHECK_URL, check_params(), HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["reason"] == "unauthorized"


@_fuzz
@given(name=_text, secret=_text)
def test_any_basic_credential_is_refused_never_a_500(client, edge_credential, name, secret):
    response = client.get(CHECK_URL, check_params(), HTTP_AUTHORIZATION=basic(name, secret))

    assert response.status_code == 401


# --- A database outage ------------------------------------------------------------------------


def test_a_database_outage_is_a_json_503_logged_once_not_a_traceback_per_check(
    edge_client, hot_desk_user, monkeypatch, caplog
):
    from django.db import OperationalError

    from registrations import evaluation

    real = evaluation._user_facts

    def unreachable(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(evaluation, "_user_facts", unreachable)
    with caplog.at_level(logging.WARNING, logger="registrations.api"):
        answers = [check(edge_client) for _ in range(3)]
        monkeypatch.setattr(evaluation, "_user_facts", real)
        back = check(edge_client)

    assert [a.status_code for a in answers] == [503] * 3
    assert {json.dumps(a.json()) for a in answers} == {'{"allow": false, "reason": "unavailable"}'}
    assert back.status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "registrations.api"]
    # One line as it starts, one as it ends: not one per check.
    assert messages == [
        "SIP API: the database is unavailable (connection refused); answering 503",
        "SIP API: the database is available again",
    ]
    assert not any(r.exc_info for r in caplog.records)
