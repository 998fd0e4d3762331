"""Batches of session reports (POST register/events): how the shipped Kamailio reports logins.

Each line is one `registered` or `unregistered` report, in the order the SIP edge saw them.
"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from registrations.models import EventKind, HotDeskSession, Lockout, RegistrationLogEntry
from tests.factories import HotDeskSessionFactory, PbxUserFactory, SipCredentialFactory
from users.models import PbxUser

from .helpers import BATCH_URL, TRUSTED_IP, basic, event_params, post_batch
from .test_api import _assert_json_answer, _form, _fuzz

pytestmark = pytest.mark.django_db

DESK_PHONE = "<sip:1001@203.0.113.7:5060;transport=udp>"
OTHER_PHONE = "<sip:1001@203.0.113.9:5060;transport=udp>"


def login(extension="1001", *, contact=None, **overrides) -> dict:
    contact = contact or f"<sip:{extension}@203.0.113.7:5060>"
    return event_params("registered", user=extension, contact=contact, expires="300", **overrides)


def logout(extension="1001", *, contact=None, **overrides) -> dict:
    contact = contact or f"<sip:{extension}@203.0.113.7:5060>"
    return event_params("unregistered", user=extension, contact=contact, expires="0", **overrides)


def open_contacts() -> dict[str, str]:
    return dict(
        HotDeskSession.objects.filter(ended_at__isnull=True).values_list(
            "pbx_user__extension", "contact"
        )
    )


def test_a_batch_opens_a_session_for_each_login(edge_client, install, hot_desk_user):
    PbxUserFactory(install=install, extension="1002", hot_desk_access=True, pin="1357")

    response = post_batch(
        edge_client, [login("1001", ua="Handset/7", port="5062"), login("1002", proto="tcp")]
    )

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "recorded": 2,
        "duplicates": 0,
        "settled": 0,
        "rejected": [],
    }
    assert open_contacts() == {
        "1001": "<sip:1001@203.0.113.7:5060>",
        "1002": "<sip:1002@203.0.113.7:5060>",
    }
    ann = HotDeskSession.objects.get(pbx_user=hot_desk_user)
    assert (ann.user_agent, ann.source_ip, ann.source_port) == ("Handset/7", TRUSTED_IP, 5062)
    assert ann.expires_at == ann.logged_in_at + timedelta(seconds=300)
    assert HotDeskSession.objects.get(pbx_user__extension="1002").proto == "tcp"
    logged = RegistrationLogEntry.objects.filter(kind=EventKind.REGISTERED, edge="edge-1")
    assert sorted(logged.values_list("extension", flat=True)) == ["1001", "1002"]


def test_reports_apply_in_their_order_within_a_batch(edge_client, hot_desk_user):
    post_batch(
        edge_client,
        [
            login(contact=DESK_PHONE, callid="a@x"),
            login(contact=OTHER_PHONE, callid="b@x", ip="203.0.113.9"),
            logout(contact=OTHER_PHONE, callid="b@x"),
        ],
    )

    sessions = list(HotDeskSession.objects.order_by("pk").values_list("contact", "end_reason"))
    assert sessions == [(DESK_PHONE, "moved"), (OTHER_PHONE, "logged_out")]
    assert open_contacts() == {}


def test_a_login_in_a_batch_moves_the_session_opened_by_an_earlier_one(edge_client, hot_desk_user):
    post_batch(edge_client, [login(contact=DESK_PHONE, callid="a@x")])

    post_batch(edge_client, [login(contact=OTHER_PHONE, callid="b@x", ip="203.0.113.9")])

    old = HotDeskSession.objects.get(contact=DESK_PHONE)
    assert old.end_reason == "moved"
    assert open_contacts() == {"1001": OTHER_PHONE}


def test_a_session_past_its_expiry_ends_as_expired_when_the_next_login_arrives(
    edge_client, hot_desk_user
):
    post_batch(edge_client, [login(contact=DESK_PHONE, callid="a@x")])
    ran_out = timezone.now() - timedelta(minutes=5)
    HotDeskSession.objects.update(expires_at=ran_out)

    post_batch(edge_client, [login(contact=DESK_PHONE, callid="b@x")])

    old = HotDeskSession.objects.get(call_id="a@x")
    assert (old.end_reason, old.ended_at) == ("expired", ran_out)
    assert HotDeskSession.objects.get(ended_at__isnull=True).call_id == "b@x"


def test_a_login_from_the_same_handset_refreshes_the_open_session(edge_client, hot_desk_user):
    post_batch(edge_client, [login(contact=DESK_PHONE, callid="a@x")])
    first = HotDeskSession.objects.get()

    post_batch(edge_client, [login(contact=DESK_PHONE, callid="after-reboot@x", port="5099")])

    refreshed = HotDeskSession.objects.get()
    assert refreshed.pk == first.pk
    assert (refreshed.call_id, refreshed.source_port) == ("after-reboot@x", 5099)
    assert refreshed.refreshed_at > first.refreshed_at
    assert refreshed.ended_at is None


def test_a_batch_sent_twice_changes_nothing_the_second_time(edge_client, hot_desk_user):
    reports = [login(callid="a@x", cseq="2"), logout(callid="a@x", cseq="3")]
    post_batch(edge_client, reports)
    before = list(HotDeskSession.objects.values())

    again = post_batch(edge_client, reports)

    assert (again.json()["recorded"], again.json()["duplicates"]) == (0, 2)
    assert list(HotDeskSession.objects.values()) == before
    assert RegistrationLogEntry.objects.count() == 2


def test_a_report_repeated_within_a_batch_counts_once(edge_client, hot_desk_user):
    report = login(callid="a@x", cseq="2")

    response = post_batch(edge_client, [report, report])

    assert (response.json()["recorded"], response.json()["duplicates"]) == (1, 1)
    assert RegistrationLogEntry.objects.count() == 1


def test_the_same_call_id_and_cseq_in_two_attempts_are_two_reports(edge_client, install):
    # Call-ID and CSeq are the handset's to choose: they never make a report a duplicate, not
    # even of another user's.
    PbxUserFactory(install=install, extension="1002", hot_desk_access=True, pin="1357")
    reports = [
        login("1001", callid="same@x", cseq="2"),
        logout("1001", callid="same@x", cseq="2"),
        login("1002", callid="same@x", cseq="2"),
    ]

    response = post_batch(edge_client, reports)

    assert (response.json()["recorded"], response.json()["duplicates"]) == (3, 0)
    assert open_contacts() == {"1002": "<sip:1002@203.0.113.7:5060>"}


def test_a_login_ends_the_run_of_wrong_pins(edge_client, install, hot_desk_user):
    other = PbxUserFactory(install=install, extension="1002", hot_desk_access=True, pin="1357")
    for pbx_user in (hot_desk_user, other):
        Lockout.objects.create(pbx_user=pbx_user, consecutive_failures=3, window_failures=3)

    post_batch(edge_client, [login("1001")])

    failures = dict(Lockout.objects.values_list("pbx_user__extension", "consecutive_failures"))
    assert failures == {"1001": 0, "1002": 3}


def test_a_login_stamps_the_range_it_came_from(edge_client, hot_desk_user, trusted_range):
    post_batch(edge_client, [login()])

    trusted_range.refresh_from_db()
    assert trusted_range.last_used_at is not None


def test_reports_for_unknown_users_and_domains_are_logged_only(edge_client, install, hot_desk_user):
    response = post_batch(
        edge_client,
        [login("1999", callid="a@x"), login("1001", callid="b@x", domain="nowhere.test")],
    )

    assert response.json()["recorded"] == 2
    assert not HotDeskSession.objects.exists()
    logged = dict(RegistrationLogEntry.objects.values_list("extension", "install_id"))
    assert logged == {"1999": install.pk, "1001": None}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("", "body: no reports"),
        ("\n\n", "body: no reports"),
        (b"\xff\xfe", "body: not UTF-8"),
    ],
    ids=["empty", "blank_lines", "not_utf8"],
)
def test_a_malformed_batch_is_refused_with_the_reason(edge_client, hot_desk_user, body, detail):
    response = edge_client.post(BATCH_URL, body, content_type="text/plain")

    assert response.status_code == 400
    assert response.json()["reason"] == "bad_request"
    assert response.json()["detail"].startswith(detail)


def test_a_bad_line_is_rejected_alone_and_the_rest_of_the_batch_is_recorded(
    edge_client, install, hot_desk_user
):
    # One odd report must never cost another handset (or another customer) its login.
    PbxUserFactory(install=install, extension="1002", hot_desk_access=True, pin="1357")
    bad_port = login("1001", callid="b@x", port="70000")
    missing = {"event": "registered", "domain": "acme.pbx.test", "attempt": "srid-x-1"}

    response = post_batch(edge_client, [login("1002", callid="a@x"), bad_port, missing])

    assert response.status_code == 200
    assert response.json()["recorded"] == 1
    assert response.json()["rejected"] == [
        "line 2: port: must be between 0 and 65535",
        "line 3: user: this parameter is required",
    ]
    assert open_contacts() == {"1002": "<sip:1002@203.0.113.7:5060>"}
    assert list(RegistrationLogEntry.objects.values_list("call_id", flat=True)) == ["a@x"]


def test_a_wrong_pin_sent_again_in_a_batch_counts_once_in_its_place(edge_client, hot_desk_user):
    # The edge queues a wrong-PIN report the portal did not take at once, and may send a batch
    # twice: the guess counts exactly once, and before the login that came after it.
    wrong = event_params("auth_failed", callid="a@x", cseq="1")
    batch = [wrong, login(callid="a@x", cseq="3")]

    first = post_batch(edge_client, batch)
    again = post_batch(edge_client, batch)

    assert (first.json()["recorded"], first.json()["rejected"]) == (2, [])
    assert again.json()["recorded"] == 0
    assert RegistrationLogEntry.objects.filter(kind=EventKind.AUTH_FAILED).count() == 1
    # The login after it ended the run of wrong PINs.
    assert Lockout.objects.get(pbx_user=hot_desk_user).consecutive_failures == 0
    assert open_contacts() == {"1001": "<sip:1001@203.0.113.7:5060>"}


def test_a_wrong_pin_after_a_login_in_the_same_batch_stays_counted(edge_client, hot_desk_user):
    post_batch(edge_client, [login(callid="a@x"), event_params("auth_failed", callid="b@x")])

    assert Lockout.objects.get(pbx_user=hot_desk_user).consecutive_failures == 1


def test_too_many_reports_are_refused(edge_client, hot_desk_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    reports = [login(callid=f"{n}@x") for n in range(1001)]

    response = post_batch(edge_client, reports)

    assert response.status_code == 400
    assert response.json()["detail"] == "body: more than 1000 reports"
    assert not RegistrationLogEntry.objects.exists()


def test_a_line_with_too_many_fields_is_refused_in_json(edge_client, hot_desk_user, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    crowded = {**login(callid="b@x"), **{f"extra{n}": "1" for n in range(20)}}

    response = post_batch(edge_client, [login(callid="a@x"), crowded])

    assert response.status_code == 200
    assert response.json()["rejected"] == ["line 2: report: too many parameters"]
    assert list(RegistrationLogEntry.objects.values_list("call_id", flat=True)) == ["a@x"]


def test_a_body_over_the_upload_limit_is_refused(edge_client, hot_desk_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    reports = [login(callid=f"{n}@x") for n in range(20)]

    response = post_batch(edge_client, reports)

    assert response.status_code == 400
    assert response.json()["detail"] == "body: too large"


def test_a_batch_needs_the_edge_credential(client, edge_credential, hot_desk_user):
    response = post_batch(client, [login()], HTTP_AUTHORIZATION=basic("edge-1", "wrong"))

    assert response.status_code == 401
    assert not HotDeskSession.objects.exists()


def test_only_post_is_allowed(edge_client):
    response = edge_client.get(BATCH_URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"


def test_a_batch_costs_the_same_queries_for_5_reports_as_for_45(edge_client, install):
    PbxUser.objects.bulk_create(
        PbxUser(install=install, extension=f"{2000 + n}", hot_desk_access=True) for n in range(51)
    )

    def queries_for(extensions: range, round_: str) -> int:
        batch = [login(str(2000 + n), callid=f"{round_}-{n}@x") for n in extensions]
        with CaptureQueriesContext(connection) as captured:
            assert post_batch(edge_client, batch).json()["recorded"] == len(batch)
        return len(captured.captured_queries)

    queries_for(range(50, 51), "warm-up")  # the edge credential and the ranges, cached after
    # A first login of a user opens a session, the next one moves it: both kinds at each size.
    few = queries_for(range(5), "open") + queries_for(range(5), "move")
    many = queries_for(range(5, 50), "open") + queries_for(range(5, 50), "move")

    assert many == few
    assert HotDeskSession.objects.filter(ended_at__isnull=True).count() == 51


@_fuzz
@given(forms=st.lists(_form, max_size=4))
def test_any_batch_of_forms_gets_a_json_answer_never_a_500(edge_client, hot_desk_user, forms):
    body = "\n".join(urlencode(form) for form in forms)

    _assert_json_answer(edge_client.post(BATCH_URL, body, content_type="text/plain"))


@_fuzz
@given(body=st.binary(max_size=300))
def test_any_raw_batch_body_gets_a_json_answer_never_a_500(edge_client, hot_desk_user, body):
    _assert_json_answer(edge_client.post(BATCH_URL, body, content_type="text/plain"))


def test_a_batch_that_collides_with_another_login_is_read_again(
    edge_client, hot_desk_user, monkeypatch
):
    # Another process opens a session for the same user between this batch's read of the open
    # sessions and its insert: `one_open_session` refuses the insert and the batch is retried.
    real_bulk_create = HotDeskSession.objects.bulk_create
    collisions = []

    def bulk_create_after_a_rival(sessions, *args, **kwargs):
        if not collisions:
            collisions.append(HotDeskSessionFactory(pbx_user=hot_desk_user, contact=OTHER_PHONE))
        return real_bulk_create(sessions, *args, **kwargs)

    monkeypatch.setattr(HotDeskSession.objects, "bulk_create", bulk_create_after_a_rival)

    response = post_batch(edge_client, [login(contact=DESK_PHONE, callid="a@x")])

    assert len(collisions) == 1
    assert (response.json()["recorded"], response.json()["duplicates"]) == (1, 0)
    assert open_contacts() == {"1001": DESK_PHONE}
    assert RegistrationLogEntry.objects.filter(call_id="a@x").count() == 1


def test_an_edge_that_started_again_ends_the_sessions_whose_bindings_it_lost(
    edge_client, install, hot_desk_user
):
    other_user = PbxUserFactory(install=install, extension="1002", hot_desk_access=True)
    post_batch(edge_client, [login("1001", callid="before@x")])
    on_another_edge = HotDeskSessionFactory(pbx_user=other_user, edge="edge-2")

    # Its first line after the restart, then a login made on it since.
    response = edge_client.post(
        BATCH_URL,
        "event=started\n" + urlencode(login("1001", callid="after@x")),
        content_type="text/plain",
    )

    assert response.status_code == 200
    sessions = list(
        HotDeskSession.objects.filter(pbx_user=hot_desk_user)
        .order_by("pk")
        .values_list("call_id", "end_reason", "edge")
    )
    assert sessions == [("before@x", "edge_restarted", "edge-1"), ("after@x", "", "edge-1")]
    on_another_edge.refresh_from_db()
    assert on_another_edge.ended_at is None


# --- CSeq order per Call-ID: a late report is older news ---------------------------------------


def test_a_login_reported_after_its_own_log_out_does_not_reopen_the_session(
    edge_client, hot_desk_user
):
    post_batch(edge_client, [login(callid="a@x", cseq="1")])
    post_batch(edge_client, [logout(callid="a@x", cseq="9")])

    # A batch the edge re-sent late: a login of the same Call-ID before that log-out.
    late = post_batch(edge_client, [login(callid="a@x", cseq="2")])

    assert late.json()["recorded"] == 1  # logged: it happened
    assert open_contacts() == {}
    (session,) = HotDeskSession.objects.all()
    assert (session.end_reason, session.cseq) == ("logged_out", 9)


def test_reports_in_one_batch_out_of_cseq_order_leave_the_newest_state(edge_client, hot_desk_user):
    post_batch(edge_client, [logout(callid="a@x", cseq="9"), login(callid="a@x", cseq="2")])

    assert open_contacts() == {}
    assert not HotDeskSession.objects.exists()


def test_a_late_log_out_does_not_close_a_newer_registration(edge_client, hot_desk_user):
    post_batch(edge_client, [login(callid="a@x", cseq="5")])

    post_batch(edge_client, [logout(callid="a@x", cseq="3")])

    assert open_contacts() == {"1001": "<sip:1001@203.0.113.7:5060>"}
    assert HotDeskSession.objects.get().cseq == 5


def test_cseq_order_holds_across_edges(edge_client, hot_desk_user):
    other_edge = SipCredentialFactory(name="edge-2", secret="edge-2-secret")
    other = {"HTTP_AUTHORIZATION": basic(other_edge.name, "edge-2-secret")}
    post_batch(edge_client, [login(callid="a@x", cseq="2")])
    post_batch(edge_client, [logout(callid="a@x", cseq="4")], **other)

    # edge-1's batch with the handset's refresh of CSeq 3 arrives after edge-2's log-out.
    post_batch(edge_client, [login(callid="a@x", cseq="3", contact=OTHER_PHONE)])

    assert open_contacts() == {}


def test_a_new_call_id_is_not_held_to_an_old_one_s_cseq(edge_client, hot_desk_user):
    # A handset that restarts picks a new Call-ID and starts its CSeq again at 1.
    post_batch(edge_client, [login(callid="a@x", cseq="900"), logout(callid="a@x", cseq="901")])

    post_batch(edge_client, [login(callid="b@x", cseq="1")])

    assert open_contacts() == {"1001": "<sip:1001@203.0.113.7:5060>"}
