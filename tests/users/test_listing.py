"""The Users tab at scale: sort, filters, total, page size, "logged in now", bounded queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registrations.models import Lockout
from tests.factories import HotDeskSessionFactory, InstallFactory, PbxUserFactory
from users.listing import who_is_logged_in
from users.models import PbxUser
from users.signals import logged_in_now

pytestmark = pytest.mark.django_db


def list_url(install):
    return reverse("users:list", kwargs={"install_pk": install.pk})


def shown(response) -> list[str]:
    """The extensions of the table's rows, in order."""
    return re.findall(r'<tr data-extension="(\d{4})">', response.content.decode())


def total(response) -> str:
    found = re.search(r'id="users-total">(.*?)</span>', response.content.decode(), re.S)
    assert found is not None
    return " ".join(found.group(1).split())


@pytest.fixture
def office(install):
    """Six users, each different in one way: access, PIN, lock, logged in, name case."""
    now = timezone.now()
    ann = PbxUserFactory(
        install=install, extension="1001", name="ann Smith", hot_desk_access=True, pin="2468"
    )
    bob = PbxUserFactory(
        install=install, extension="1002", name="Bob Jones", hot_desk_access=True, pin="1357"
    )
    PbxUserFactory(install=install, extension="1003", name="Cy Young")
    dee = PbxUserFactory(install=install, extension="1004", name="Dee Ward", pin="3691")
    eve = PbxUserFactory(
        install=install, extension="1005", name="Eve Adams", hot_desk_access=True, pin="4826"
    )
    PbxUserFactory(install=install, extension="1006", name="al Brown", pin="5937")
    Lockout.objects.create(pbx_user=bob, locked_indefinitely=True, locked_at=now)
    Lockout.objects.create(pbx_user=dee, locked_until=now + timedelta(minutes=10), locked_at=now)
    # A lock that has run out is no lock.
    Lockout.objects.create(pbx_user=eve, locked_until=now - timedelta(minutes=1), locked_at=now)
    HotDeskSessionFactory(pbx_user=ann, source_ip="203.0.113.7")
    HotDeskSessionFactory(pbx_user=eve, source_ip="203.0.113.9")
    # Ended, and open but run out: neither is logged in now.
    HotDeskSessionFactory(pbx_user=bob, ended_at=now)
    dee_session = HotDeskSessionFactory(pbx_user=dee)
    dee_session.expires_at = now - timedelta(seconds=1)
    dee_session.save()
    return install


# --- Sorting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["1001", "1002", "1003", "1004", "1005", "1006"]),
        ("-extension", ["1006", "1005", "1004", "1003", "1002", "1001"]),
        # Names sort as people read them, whatever their case.
        ("name", ["1006", "1001", "1002", "1003", "1004", "1005"]),
        ("-name", ["1005", "1004", "1003", "1002", "1001", "1006"]),
        ("-access", ["1001", "1002", "1005", "1003", "1004", "1006"]),
        ("access", ["1003", "1004", "1006", "1001", "1002", "1005"]),
        ("pin", ["1003", "1001", "1002", "1004", "1005", "1006"]),
        ("-locked", ["1002", "1004", "1001", "1003", "1005", "1006"]),
        ("-logged_in", ["1001", "1005", "1002", "1003", "1004", "1006"]),
        ("logged_in", ["1002", "1003", "1004", "1006", "1001", "1005"]),
    ],
)
def test_every_column_sorts_ties_by_extension(portal_client, office, sort, order):
    response = portal_client.get(list_url(office), {"sort": sort} if sort else {})
    assert response.status_code == 200
    assert shown(response) == order


def test_pin_sort_puts_users_without_a_pin_last_when_descending(portal_client, office):
    assert shown(portal_client.get(list_url(office), {"sort": "-pin"}))[-1] == "1003"


def test_headings_link_to_their_sort_and_say_which_is_sorted(portal_client, office):
    page = portal_client.get(list_url(office), {"sort": "name", "access": "yes"}).content.decode()

    # The sorted column is marked for screen readers; its link turns the order round and
    # keeps the filters; yes/no columns list "yes" first on their first click.
    assert re.search(r'<th scope="col" aria-sort="ascending"[^>]*>\s*<a[^>]*data-sort="name"', page)
    assert 'href="?sort=-name&amp;access=yes" data-sort="name"' in page
    assert 'href="?sort=-locked&amp;access=yes" data-sort="locked"' in page
    assert 'href="?sort=extension&amp;access=yes" data-sort="extension"' in page
    assert page.count("aria-sort=") == 1


def test_an_unknown_sort_is_said_and_the_list_is_sorted_by_extension(portal_client, office):
    response = portal_client.get(list_url(office), {"sort": "pin_ha1"})
    assert response.status_code == 200
    assert "cannot be sorted by “pin_ha1”" in response.content.decode()
    assert shown(response) == ["1001", "1002", "1003", "1004", "1005", "1006"]


# --- Filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "found"),
    [
        ({"access": "yes"}, ["1001", "1002", "1005"]),
        ({"access": "no"}, ["1003", "1004", "1006"]),
        ({"pin": "yes"}, ["1001", "1002", "1004", "1005", "1006"]),
        ({"pin": "no"}, ["1003"]),
        ({"locked": "yes"}, ["1002", "1004"]),
        ({"locked": "no"}, ["1001", "1003", "1005", "1006"]),
        ({"logged_in": "yes"}, ["1001", "1005"]),
        ({"logged_in": "no"}, ["1002", "1003", "1004", "1006"]),
        ({"access": "yes", "locked": "no", "logged_in": "yes"}, ["1001", "1005"]),
        ({"q": "smith", "access": "yes"}, ["1001"]),
        (
            {"access": "", "pin": "", "locked": "", "logged_in": ""},
            [f"100{n}" for n in range(1, 7)],
        ),
    ],
)
def test_filters_narrow_the_list(portal_client, office, filters, found):
    assert shown(portal_client.get(list_url(office), filters)) == found


def test_each_filter_has_a_visible_label(portal_client, office):
    page = portal_client.get(list_url(office)).content.decode()
    for field, label in [
        ("q", "Search"),
        ("access", "Hot Desk Access"),
        ("pin", "PIN set"),
        ("locked", "Locked"),
        ("logged_in", "Logged in now"),
        ("per_page", "Per page"),
    ]:
        assert re.search(rf'<label class="[^"]*" for="id_{field}">{label}</label>', page), field


def test_a_bad_filter_value_is_an_error_beside_it_and_the_rest_still_apply(
    portal_client, office, field_error
):
    response = portal_client.get(list_url(office), {"access": "maybe", "locked": "yes"})
    assert response.status_code == 200
    assert "maybe is not one of the available choices" in field_error(response, "access")
    assert shown(response) == ["1002", "1004"]


def test_logged_in_users_show_where(portal_client, office):
    response = portal_client.get(list_url(office))
    row = re.search(r'<tr data-extension="1001">(.*?)</tr>', response.content.decode(), re.S)
    assert row is not None
    assert "Logged in" in row.group(1) and "203.0.113.7" in row.group(1)


def test_without_open_sessions_nobody_is_logged_in_and_the_filter_finds_nobody(
    portal_client, install
):
    PbxUserFactory(install=install, extension="1001")
    assert who_is_logged_in(install) == {}
    assert shown(portal_client.get(list_url(install), {"logged_in": "yes"})) == []
    assert shown(portal_client.get(list_url(install), {"logged_in": "no"})) == ["1001"]


def test_a_receiver_may_answer_with_a_set_of_extensions(install):
    def answer(sender, install, **kwargs):
        return {"1001", "1002"}

    logged_in_now.connect(answer, dispatch_uid="test.set_answer")
    try:
        assert who_is_logged_in(install) == {"1001": "", "1002": ""}
    finally:
        logged_in_now.disconnect(dispatch_uid="test.set_answer")


def test_the_locked_filter_agrees_with_the_lock_shown_on_each_row(portal_client, office):
    # users/ filters in SQL what registrations' lock_is_active decides in Python.
    locked = set(shown(portal_client.get(list_url(office), {"locked": "yes"})))
    for user in PbxUser.objects.filter(install=office).select_related("lockout"):
        assert (user.lock_state is not None) == (user.extension in locked), user.extension


# --- Total and pages ----------------------------------------------------------------------------


@pytest.fixture
def crowd(install):
    PbxUser.objects.bulk_create(
        PbxUser(install=install, extension=f"{2000 + n}", name=f"Operator {n}") for n in range(312)
    )
    return install


def test_the_total_counts_every_user_not_just_the_page(portal_client, crowd):
    response = portal_client.get(list_url(crowd))
    assert total(response) == "312 users"
    assert len(shown(response)) == 50


def test_the_total_says_when_filters_narrow_it(portal_client, crowd):
    PbxUserFactory(install=crowd, extension="1001", name="Ann", hot_desk_access=True, pin="2468")
    response = portal_client.get(list_url(crowd), {"access": "yes"})
    assert total(response) == "1 user matches these filters"


@pytest.mark.parametrize("size", [25, 50, 100, 200])
def test_page_size_can_be_chosen(portal_client, crowd, size):
    response = portal_client.get(list_url(crowd), {"per_page": size})
    assert len(shown(response)) == size
    assert f"per_page={size}&amp;page=2" in response.content.decode()


def test_the_page_size_in_use_is_the_one_shown(portal_client, crowd):
    # A browser submits what the select shows: showing 25 for the default 50 would change it.
    page = portal_client.get(list_url(crowd), {"q": "Operator"}).content.decode()
    assert '<option value="50" selected>' in page


def test_an_unknown_page_size_is_an_error_beside_it_and_fifty_are_shown(
    portal_client, crowd, field_error
):
    response = portal_client.get(list_url(crowd), {"per_page": "5000"})
    assert "5000 is not one of the available choices" in field_error(response, "per_page")
    assert len(shown(response)) == 50


@pytest.mark.parametrize("page", ["99", "abc", "-1"])
def test_a_page_past_the_end_or_not_a_number_is_not_an_error_page(portal_client, crowd, page):
    response = portal_client.get(list_url(crowd), {"page": page})
    assert response.status_code == 200
    assert shown(response)


def test_another_accounts_users_tab_is_a_404_with_or_without_filters(portal_client, other_install):
    assert portal_client.get(list_url(other_install)).status_code == 404
    assert portal_client.get(list_url(other_install), {"sort": "-name"}).status_code == 404


# --- Bounded queries ------------------------------------------------------------------------------


def fill(install, count: int) -> None:
    """`count` users, one in ten with a PIN and access, some locked, some logged in."""
    now = timezone.now()
    users = PbxUser.objects.bulk_create(
        PbxUser(install=install, extension=f"{3000 + n}", name=f"Operator {n}")
        for n in range(count)
    )
    for n, user in enumerate(users[: max(3, count // 10)]):
        user.hot_desk_access = True
        user.save()
        if n % 2:
            Lockout.objects.create(pbx_user=user, locked_indefinitely=True, locked_at=now)
        else:
            HotDeskSessionFactory(pbx_user=user)


def queries_for(client, install, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(list_url(install), params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "params", [{}, {"per_page": 200, "sort": "-logged_in"}, {"locked": "yes", "sort": "-locked"}]
)
def test_300_users_cost_the_same_queries_as_10(portal_client, install, params):
    small = InstallFactory(account=install.account)
    fill(small, 10)
    fill(install, 300)
    queries_for(portal_client, small, **params)  # first-request work (caches) out of the way

    assert queries_for(portal_client, install, **params) == queries_for(
        portal_client, small, **params
    )
