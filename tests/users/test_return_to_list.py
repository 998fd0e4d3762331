"""Save, Cancel and Remove on User Settings go back to the list as it was, and only to it."""

import re
from urllib.parse import quote

import pytest
from django.urls import reverse

from tests.factories import InstallFactory, PbxUserFactory
from users.models import PbxUser

pytestmark = pytest.mark.django_db

QUERY = "q=ann&access=yes&sort=-name&per_page=25&page=2"


@pytest.fixture
def ann(install):
    return PbxUserFactory(install=install, extension="1001", name="Ann", pin="2468")


def list_url(install) -> str:
    return reverse("users:list", kwargs={"install_pk": install.pk})


def edit_url(user, next_url: str | None = None) -> str:
    url = reverse("users:edit", kwargs={"install_pk": user.install_id, "pk": user.pk})
    return f"{url}?next={quote(next_url, safe='')}" if next_url is not None else url


def cancel_href(response) -> str:
    found = re.search(
        r'<a class="btn btn-link" href="([^"]*)">Cancel</a>', response.content.decode()
    )
    assert found is not None
    return found.group(1).replace("&amp;", "&")


def test_the_lists_edit_links_carry_the_list_as_it_is(portal_client, install, ann):
    page = portal_client.get(f"{list_url(install)}?q=ann&sort=-name").content.decode()
    expected = quote(f"{list_url(install)}?q=ann&sort=-name", safe="")
    assert f'href="{edit_url(ann)}?next={expected}"' in page


def test_save_and_cancel_return_to_the_same_search_filters_and_sort(portal_client, install, ann):
    back = f"{list_url(install)}?{QUERY}"

    page = portal_client.get(edit_url(ann, back))
    saved = portal_client.post(edit_url(ann), {"name": "Ann Smith", "pin": "", "next": back})

    assert cancel_href(page) == back
    assert saved.status_code == 302
    assert saved["Location"] == back
    ann.refresh_from_db()
    assert ann.name == "Ann Smith"


def test_a_refused_save_keeps_where_to_return(portal_client, install, ann):
    back = f"{list_url(install)}?{QUERY}"
    response = portal_client.post(edit_url(ann), {"name": "x" * 121, "next": back})
    assert response.status_code == 200
    assert cancel_href(response) == back
    assert f'name="next" value="{back.replace("&", "&amp;")}"' in response.content.decode()


def test_generate_a_pin_and_remove_return_to_the_list_too(portal_client, install, ann):
    back = f"{list_url(install)}?{QUERY}"
    generated = portal_client.post(
        edit_url(ann), {"name": "Ann", "generate_pin": "1", "next": back}
    )
    assert f'href="{back.replace("&", "&amp;")}">Back to users' in generated.content.decode()

    delete = reverse("users:delete", kwargs={"install_pk": install.pk, "pk": ann.pk})
    removed = portal_client.post(delete, {"next": back})
    assert removed["Location"] == back
    assert not PbxUser.objects.filter(pk=ann.pk).exists()


@pytest.mark.parametrize(
    "candidate",
    [
        "https://evil.example/installs/1/users/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "/installs/",
        "/admin/",
        "",
        " ",
        "\x01/installs/",
    ],
)
def test_anywhere_else_returns_to_the_plain_list(portal_client, install, ann, candidate):
    saved = portal_client.post(edit_url(ann), {"name": "Ann", "next": candidate})
    assert saved["Location"] == list_url(install)


def test_another_installs_list_is_not_followed(portal_client, install, ann):
    mine_too = InstallFactory(account=install.account)
    saved = portal_client.post(edit_url(ann), {"name": "Ann", "next": list_url(mine_too)})
    assert saved["Location"] == list_url(install)


def test_an_absolute_url_of_this_site_is_not_followed_either(portal_client, install, ann):
    candidate = f"http://testserver{list_url(install)}?q=ann"
    saved = portal_client.post(edit_url(ann), {"name": "Ann", "next": candidate})
    assert saved["Location"] == list_url(install)


def test_only_the_lists_own_parameters_are_kept(portal_client, install, ann):
    candidate = f"{list_url(install)}?q=ann&evil=%0d%0aSet-Cookie:x&sort=name"
    saved = portal_client.post(edit_url(ann), {"name": "Ann", "next": candidate})
    assert saved["Location"] == f"{list_url(install)}?q=ann&sort=name"


def test_user_settings_of_another_accounts_user_is_a_404_whatever_next(
    portal_client, other_install
):
    stranger = PbxUserFactory(install=other_install)
    assert portal_client.get(edit_url(stranger, list_url(other_install))).status_code == 404
