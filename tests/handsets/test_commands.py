"""`manage.py yealink_config` prints what the Handset Setup tab shows; `prune_provisioning_log`."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.trail import Actor
from handsets import services, yealink
from handsets.management.commands import prune_provisioning_log
from handsets.models import ProvisioningFetch

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("yealink_config", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_prints_the_same_text_as_the_portal(install):
    assert run("--domain", "acme.pbx.test") == services.unsaved_profile(install).render()


def test_line_key_and_label_flags(install):
    lines = yealink.setting_lines(
        run("--domain", "ACME.pbx.test", "--line-key", "3", "--label", "Desk Login")
    )
    assert lines[:5] == [
        "linekey.3.line = 0",
        "linekey.3.type = 34",
        "linekey.3.value =",
        "linekey.3.pickup_value =",
        "linekey.3.label = Desk Login",
    ]
    assert lines[-1] == "account.1.sip_server.1.expires = 500"


def test_defaults_are_the_installs_saved_settings(install, portal_admin):
    services.save_key_settings(
        install=install,
        line_key=5,
        label="Desks",
        handset_family="",
        actor=Actor.for_user(portal_admin),
    )
    assert "linekey.5.label = Desks" in yealink.setting_lines(run("--domain", "acme.pbx.test"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--domain", "nowhere.pbx.test"], "No install has the SIP domain nowhere.pbx.test."),
        (["--domain", "acme.pbx.test", "--line-key", "0"], "--line-key must be 1 to 29."),
        (["--domain", "acme.pbx.test", "--label", ""], "--label: Enter a label"),
        (
            ["--domain", "acme.pbx.test", "--label", "Hot\u2028linekey.1.type = 0"],
            "--label: The label cannot contain line breaks or other control characters "
            "(it has U+2028 LINE SEPARATOR)",
        ),
        (
            ["--domain", "acme.pbx.test", "--label", "Hot\u2029Desking"],
            "--label: The label cannot contain line breaks",
        ),
    ],
)
def test_bad_input_is_one_clear_error(install, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)


def test_real_process_exits_non_zero_with_one_stderr_line(manage_py):
    created = manage_py.run(
        "create_install", "--account", "Yealink Co", "--name", "HQ", "--domain", "yealink.pbx.test"
    )
    assert created.returncode == 0, created.stderr

    good = manage_py.run("yealink_config", "--domain", "yealink.pbx.test", "--line-key", "2")
    assert good.returncode == 0
    assert good.stdout.startswith("#!version:1.0.0.1\n")

    bad = manage_py.run("yealink_config", "--domain", "yealink.pbx.test", "--line-key", "99")
    assert bad.returncode != 0
    assert bad.stdout == ""
    assert bad.stderr.strip().splitlines() == ["CommandError: --line-key must be 1 to 29."]


# --- prune_provisioning_log ----------------------------------------------------------------------


def fetches_aged(install, *ages: timedelta) -> list[int]:
    pks = []
    for age in ages:
        fetch = ProvisioningFetch.objects.create(
            install=install, filename="y000000000000.cfg", source_ip="203.0.113.7"
        )
        ProvisioningFetch.objects.filter(pk=fetch.pk).update(fetched_at=timezone.now() - age)
        pks.append(fetch.pk)
    return pks


def prune(*args) -> str:
    out = StringIO()
    call_command("prune_provisioning_log", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_prune_deletes_only_fetches_older_than_the_cutoff_and_says_how_many(install):
    old = fetches_aged(install, timedelta(days=31), timedelta(days=400))
    kept = fetches_aged(install, timedelta(days=29), timedelta(0))

    out = prune("--older-than-days", "30")

    assert sorted(ProvisioningFetch.objects.values_list("pk", flat=True)) == sorted(kept)
    assert not ProvisioningFetch.objects.filter(pk__in=old).exists()
    assert out == "Deleted 2 provisioning fetches older than 30 days.\n"


def test_prune_works_through_more_fetches_than_one_batch(install, monkeypatch):
    monkeypatch.setattr(prune_provisioning_log.Command, "batch_size", 2)
    fetches_aged(install, *[timedelta(days=40 + n) for n in range(5)])
    kept = fetches_aged(install, timedelta(days=1))

    out = prune("--older-than-days", "30")

    assert list(ProvisioningFetch.objects.values_list("pk", flat=True)) == kept
    assert out.startswith("Deleted 5 ")


@pytest.mark.parametrize("days", ["0", "-1"])
def test_prune_refuses_a_cutoff_below_one_day(install, days):
    fetches_aged(install, timedelta(days=2))

    with pytest.raises(CommandError, match="at least 1"):
        prune("--older-than-days", days)

    assert ProvisioningFetch.objects.count() == 1
