"""A monitoring service's Django account views (patterns from real applications): the next URL
checked by a helper, sudo mode's redirect back to the same page, validated forms kept in the
session, a redirect to a configured service with the data in its query string."""

from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import resolve

from hc.accounts import forms
from hc.lib.urls import absolute_reverse

POST_LOGIN_ROUTES = ("hc-checks", "hc-details")


def _allow_redirect(redirect_url: str | None) -> bool:
    if not redirect_url:
        return False
    parsed = urlparse(redirect_url)
    if parsed.netloc:
        return False
    return resolve(parsed.path).url_name in POST_LOGIN_ROUTES


def redirect_after_login(request: HttpRequest) -> HttpResponse:
    redirect_url = request.GET.get("next")
    if redirect_url and _allow_redirect(redirect_url):
        return redirect(redirect_url)  # expect: safe
    return redirect("hc-index")


def redirect_unchecked(request: HttpRequest) -> HttpResponse:
    redirect_url = request.GET.get("next")
    if redirect_url:
        return redirect(redirect_url)  # expect: CWE-601
    return redirect("hc-index")


def require_sudo_mode(request: HttpRequest) -> HttpResponse:
    if request.POST.get("sudo_code") == request.session.get("sudo_code"):
        request.session["sudo"] = "active"
        return redirect(request.path)  # expect: safe
    return HttpResponseBadRequest()


def change_email(request: HttpRequest) -> HttpResponse:
    form = forms.ChangeEmailForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"]
        request.session["sent"] = email  # expect: safe
    return redirect("hc-profile")


def add_key(request: HttpRequest) -> HttpResponse:
    form = forms.AddKeyForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest()
    request.session["added_key_name"] = form.cleaned_data["name"]  # expect: safe
    return redirect("hc-profile")


def remember_theme(request: HttpRequest) -> HttpResponse:
    request.session["theme"] = request.POST.get("theme", "light")  # expect: CWE-501
    return redirect("hc-profile")


def add_pushover(request: HttpRequest, code: str) -> HttpResponse:
    success_url = absolute_reverse("hc-add-pushover", args=[code], query={"prio": request.POST.get("prio", "0")})
    subscription_url = settings.PUSHOVER_SUBSCRIPTION_URL + "?" + urlencode({"success": success_url})
    return redirect(subscription_url)  # expect: safe


def add_webhook(request: HttpRequest) -> HttpResponse:
    target = request.POST["target"] + "?" + urlencode({"from": "hc"})
    return redirect(target)  # expect: CWE-601
