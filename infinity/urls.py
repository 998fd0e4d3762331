from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from registrations import api_urls

# The tabs of one install, each app under its own namespace. Listed here, at the top, so an
# install knows nothing of what its tabs hold.
install_tabs = [
    path("<int:install_pk>/users/", include("users.urls")),
    path("<int:install_pk>/trusted-ips/", include("trustedips.urls")),
    path("<int:install_pk>/registrations/", include("registrations.urls")),
    path("<int:install_pk>/calls/", include("calls.urls")),
    path("<int:install_pk>/handsets/", include("handsets.urls")),
    path("<int:install_pk>/bulk/", include("bulk.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="installs:list"), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("telephony/", include("installs.urls")),
    path("telephony/", include(install_tabs)),
    path(f"{api_urls.ROOT}v1/", include(api_urls)),
    path(f"{api_urls.ROOT}v1/calls/", include("calls.api_urls")),
    path("provision/", include("handsets.provisioning_urls")),
    path("admin/", admin.site.urls),
]
