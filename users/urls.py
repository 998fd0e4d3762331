from django.urls import path

from . import views

app_name = "users"
urlpatterns = [
    path("", views.UserListView.as_view(), name="list"),
    path("add/", views.UserCreateView.as_view(), name="add"),
    path("new-pins.csv", views.PinSheetDownloadView.as_view(), name="pin_sheet"),
    path("<int:pk>/", views.UserUpdateView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.UserDeleteView.as_view(), name="delete"),
]
