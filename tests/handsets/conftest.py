import pytest

from tests.factories import HandsetFactory, ProvisioningProfileFactory


@pytest.fixture
def profile(install):
    return ProvisioningProfileFactory(install=install)


@pytest.fixture
def handset(install):
    return HandsetFactory(install=install, mac="805ec0123456", desk="Desk 12", model="SIP-T46S")


@pytest.fixture
def provision_url(profile):
    """The URL of a provisioning file of `install` with its current token."""

    def url(filename: str = "y000000000000.cfg", token: str | None = None) -> str:
        return f"/provision/{profile.install_id}/{token or profile.token}/{filename}"

    return url
