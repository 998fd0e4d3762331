from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from installs.urls import install_tabs
from registrations import api_urls

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="installs:list"), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("telephony/", include("installs.urls")),
    path("telephony/", include(install_tabs)),
    path(f"{api_urls.ROOT}v1/", include(api_urls)),
    path("provision/", include("handsets.provisioning_urls")),
    path("admin/", admin.site.urls),
]
