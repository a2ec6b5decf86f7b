"""Django auth views with redirects."""

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def after_login(request):
    next_url = request.GET.get("next", "/")
    return HttpResponseRedirect(next_url)  # expect: CWE-601


def after_login_checked(request):
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return HttpResponseRedirect(next_url)  # expect: safe


def switch_language(request):
    back = request.POST.get("back")
    return redirect(back)  # expect: CWE-601


def profile(request, username):
    return redirect(reverse("profile-detail", args=[username]))  # expect: safe


def outbound(request):
    url = request.META.get("HTTP_REFERER", "/")
    response = HttpResponseRedirect(url)  # expect: CWE-601
    return response


def home(request):
    return HttpResponseRedirect("/dashboard/")  # expect: safe


def legacy(request, page):
    return redirect("/pages/%s/" % page)  # expect: safe
