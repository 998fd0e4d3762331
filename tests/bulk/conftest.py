import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.trail import Actor
from bulk.imports import run_import
from bulk.ranges import RANGES
from bulk.users import USERS

KINDS = {"users": USERS, "trusted-ips": RANGES}


def csv_bytes(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def importer(install):
    """Plan (or, with apply=True, apply) a CSV into `install` as a command would."""

    def run(kind: str, data: bytes, *, apply: bool = False):
        return run_import(
            KINDS[kind], install=install, data=data, actor=Actor.for_command("test"), apply=apply
        )

    return run


@pytest.fixture
def upload(portal_client, install):
    """POST a CSV to the Import / Export tab, as the preview or (with `apply`) the confirmation."""

    def post(
        kind: str, data: bytes, *, fingerprint: str = "", apply: bool = False, name="import.csv"
    ):
        fields: dict[str, SimpleUploadedFile | str] = {
            "file": SimpleUploadedFile(name, data, content_type="text/csv")
        }
        if fingerprint:
            fields["fingerprint"] = fingerprint
        if apply:
            fields["apply"] = "1"
        url = reverse("bulk:import", kwargs={"install_pk": install.pk, "kind": kind})
        return portal_client.post(url, fields)

    return post
