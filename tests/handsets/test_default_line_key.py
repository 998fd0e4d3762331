"""The Hot Desking key's default: not line key 1 (the phone's own account line), and one that
every Yealink family has, on the tab, in the downloaded file and from `yealink_config`."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from audit.trail import Actor
from handsets import services, yealink
from handsets.models import ProvisioningProfile

pytestmark = pytest.mark.django_db


def setup_url(install) -> str:
    return reverse("handsets:setup", kwargs={"install_pk": install.pk})


def test_the_default_key_is_not_the_account_line_and_exists_on_every_family():
    assert yealink.DEFAULT_LINE_KEY != 1
    # A key past a handset's range is silently ignored: the default must fit the smallest.
    assert all(last >= yealink.DEFAULT_LINE_KEY for last in yealink.LINE_KEY_RANGES.values())
    assert yealink.HotDeskConfig(sip_domain="a.test", expiry=500).line_key == 2


def test_a_new_install_gets_the_key_on_line_key_2_everywhere(portal_client, install):
    assert ProvisioningProfile(install=install).line_key == 2

    page = portal_client.get(setup_url(install))
    download = portal_client.get(reverse("handsets:download", kwargs={"install_pk": install.pk}))
    out = StringIO()
    call_command("yealink_config", "--domain", "acme.pbx.test", stdout=out, stderr=StringIO())

    for text in (page.context["config_text"], download.content.decode(), out.getvalue()):
        lines = yealink.setting_lines(text)
        assert "linekey.2.type = 34" in lines
        assert not any(line.startswith("linekey.1.") for line in lines)
    assert page.context["form"].initial["line_key"] == 2


def test_the_tab_says_why_the_key_is_not_on_line_key_1(portal_client, install):
    page = portal_client.get(setup_url(install)).content.decode()
    assert "line key 1 is the handset's own account line" in page
    assert 'data-testid="line-key-warning"' not in page


def test_a_key_saved_on_line_key_1_is_kept_and_warned_about(portal_client, install):
    services.save_key_settings(
        install=install, line_key=1, label="Hot Desking", handset_family="", actor=Actor.system("t")
    )

    response = portal_client.get(setup_url(install))

    assert "linekey.1.type = 34" in yealink.setting_lines(response.context["config_text"])
    assert 'data-testid="line-key-warning"' in response.content.decode()


def test_moving_the_key_from_the_default_is_audited_from_2(portal_client, install):
    portal_client.post(setup_url(install), {"line_key": "5", "label": "Desk Login"})
    assert ProvisioningProfile.objects.get(install=install).line_key == 5
    assert AuditEvent.objects.get(install=install).changes["hot-desk key line_key"] == [2, 5]
