"""`manage.py yealink_config` prints what the Handset Setup tab shows."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.trail import Actor
from handsets import services, yealink

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
    ],
)
def test_bad_input_is_one_clear_error(install, args, message):
    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
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
