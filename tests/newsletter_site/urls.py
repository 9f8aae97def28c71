from django.contrib import admin
from django.contrib.auth import views as auth
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth.LoginView.as_view(template_name="admin/login.html"), name="login"),
    path("newsletter/", include("newsletter.urls")),
]
