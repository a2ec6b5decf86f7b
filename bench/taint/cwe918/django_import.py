"""Django: import a feed or an avatar from a URL."""

import urllib.request

import httpx
import requests
from django.http import JsonResponse


def import_feed(request):
    feed = request.POST["feed_url"]
    data = urllib.request.urlopen(feed).read()  # expect: CWE-918
    return JsonResponse({"bytes": len(data)})


def avatar(request):
    src = request.GET.get("src")
    resp = httpx.get(src)  # expect: CWE-918
    return JsonResponse({"type": resp.headers.get("content-type")})


def avatar_gravatar(request, email_hash):
    resp = httpx.get("https://www.gravatar.com/avatar/" + email_hash)  # expect: safe
    return JsonResponse({"type": resp.headers.get("content-type")})


def ping(request):
    host = request.GET["host"]
    with requests.Session() as s:
        r = s.get("http://" + host + ":8080/health", timeout=3)  # expect: CWE-918
    return JsonResponse({"ok": r.ok})


def weather(request):
    city = request.GET["city"]
    r = requests.get("https://weather.example.com/v1", params={"city": city}, timeout=3)  # expect: safe
    return JsonResponse(r.json())
