from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("<str:token>/", views.signin, name="signin"),
    path("<str:token>/qr.png", views.signin_qr_png, name="signin_qr_png"),
    path("<str:token>/qr.svg", views.signin_qr_svg, name="signin_qr_svg"),
]
