"""Django views storing request data in the session."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from .models import Team

THEMES = {"light", "dark"}


def choose_team(request):
    request.session["team"] = request.POST["team"]  # expect: CWE-501
    return HttpResponse("ok")


def choose_team_db(request):
    team = get_object_or_404(Team, slug=request.POST["team"])
    request.session["team_id"] = team.pk  # expect: safe
    return HttpResponse("ok")


def theme(request):
    value = request.GET.get("theme", "light")
    request.session["theme"] = value  # expect: CWE-501
    return HttpResponse("ok")


def theme_checked(request):
    value = request.GET.get("theme", "light")
    if value in THEMES:
        request.session["theme"] = value  # expect: safe
    return HttpResponse("ok")


def remember(request, token):
    request.session["invite"] = token  # expect: CWE-501
    return HttpResponse("ok")


def clear(request):
    request.session["cart"] = []  # expect: safe
    return HttpResponse("ok")
