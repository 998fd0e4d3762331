"""The pure Yealink generator: exact lines, comments, labels and MACs. No database."""

import pytest

from handsets import yealink
from handsets.yealink import HotDeskConfig


def test_key_one_with_default_label_gives_the_issues_lines_exactly():
    text = yealink.render(HotDeskConfig(sip_domain="acme.pbx.test", expiry=500, line_key=1))

    assert yealink.setting_lines(text) == [
        "linekey.1.line = 0",
        "linekey.1.type = 34",
        "linekey.1.value =",
        "linekey.1.pickup_value =",
        "linekey.1.label = Hot Desking",
        "hotdesking.dsskey_sip_server_enable = 0",
        "hotdesking.dsskey_username_enable = 1",
        "hotdesking.dsskey_password_enable = 1",
        "account.1.sip_server.1.address = acme.pbx.test",
        "account.1.sip_server.1.expires = 500",
    ]


def test_key_three_with_custom_label_and_expiry_moves_only_the_key_lines():
    config = HotDeskConfig(sip_domain="hq.pbx.test", expiry=300, line_key=3, label="Desk Login")

    assert yealink.setting_lines(yealink.render(config)) == [
        "linekey.3.line = 0",
        "linekey.3.type = 34",
        "linekey.3.value =",
        "linekey.3.pickup_value =",
        "linekey.3.label = Desk Login",
        "hotdesking.dsskey_sip_server_enable = 0",
        "hotdesking.dsskey_username_enable = 1",
        "hotdesking.dsskey_password_enable = 1",
        "account.1.sip_server.1.address = hq.pbx.test",
        "account.1.sip_server.1.expires = 300",
    ]


def test_file_starts_with_the_version_line_and_every_setting_has_a_comment_above_it():
    text = yealink.render(HotDeskConfig(sip_domain="acme.pbx.test", expiry=500))
    lines = text.splitlines()

    assert lines[0] == "#!version:1.0.0.1"
    assert text.endswith("\n")
    for index, line in enumerate(lines):
        if not line.startswith("#"):
            assert lines[index - 1].startswith("# "), f"no comment above {line!r}"
            assert len(lines[index - 1]) > 10


def test_comments_never_share_a_line_with_a_value():
    # Yealink takes everything after "=" as the value, so "x = 1 # why" would set "1 # why".
    text = yealink.render(HotDeskConfig(sip_domain="acme.pbx.test", expiry=500))
    assert all("#" not in line for line in yealink.setting_lines(text))


def test_header_text_with_a_newline_cannot_start_a_setting_line():
    text = yealink.render(
        HotDeskConfig(sip_domain="acme.pbx.test", expiry=500),
        header=("Desk 4\nhotdesking.dsskey_password_enable = 0",),
    )
    assert "hotdesking.dsskey_password_enable = 0" not in yealink.setting_lines(text)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0b", "\x85"])
def test_header_text_with_a_unicode_line_separator_cannot_start_a_setting_line(separator):
    text = yealink.render(
        HotDeskConfig(sip_domain="acme.pbx.test", expiry=500),
        header=(f"Desk 4{separator}hotdesking.dsskey_password_enable = 0",),
    )
    assert len(text.splitlines()) == text.count("\n")
    assert "hotdesking.dsskey_password_enable = 0" not in yealink.setting_lines(text)


@pytest.mark.parametrize(
    ("label", "ok"),
    [
        ("Hot Desking", True),
        ("Desk Login", True),
        ("", False),
        ("   ", False),
        (" Hot", False),
        ("Hot\nlinekey.2.type = 0", False),
        ("Tab\there", False),
        ("x" * 33, False),
        ("x" * 32, True),
        ("Hot\u2028linekey.2.type = 0", False),
        ("Hot\u2029Desking", False),
        ("Hot\x85Desking", False),
        ("Hot\u200bDesking", False),
        ("Zoë's Desk 🙂", True),
        ("Bureau à côté", True),
    ],
)
def test_label_rules(label, ok):
    assert (yealink.label_problem(label) is None) is ok


def test_render_refuses_input_that_skipped_the_checks():
    with pytest.raises(ValueError, match="line key"):
        yealink.render(HotDeskConfig(sip_domain="a.test", expiry=500, line_key=30))
    with pytest.raises(ValueError):
        yealink.render(HotDeskConfig(sip_domain="a.test", expiry=500, label="a\nb"))
    with pytest.raises(ValueError):
        yealink.render(HotDeskConfig(sip_domain="a.test\nx = 1", expiry=500))


@pytest.mark.parametrize(
    "text",
    ["80:5E:C0:12:34:56", "80-5e-c0-12-34-56", "805e.c012.3456", "805EC0123456", " 805ec0123456 "],
)
def test_mac_spellings_canonicalise_to_twelve_lower_case_hex_digits(text):
    assert yealink.canonical_mac(text) == "805ec0123456"
    assert yealink.mac_filename(text) == "805ec0123456.cfg"


@pytest.mark.parametrize("text", ["", "805ec012345", "805ec01234567", "805ec012345g", None, 42])
def test_malformed_macs_are_none_not_an_exception(text):
    assert yealink.canonical_mac(text) is None


def test_mac_is_read_from_a_yealink_user_agent_only():
    assert (
        yealink.mac_from_user_agent("Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56")
        == "805ec0123456"
    )
    assert yealink.mac_from_user_agent("curl/8.0 80:5e:c0:12:34:56") is None
    assert yealink.mac_from_user_agent(None) is None


def test_line_key_limit_by_family():
    assert yealink.line_key_limit("T42") == 15
    assert yealink.line_key_limit("t48") == 29
    assert yealink.line_key_limit(None) == yealink.MAX_LINE_KEY == 29
