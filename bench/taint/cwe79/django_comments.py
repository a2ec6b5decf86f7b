"""Django comment views."""

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe


def preview(request):
    comment = request.POST.get("comment", "")
    return HttpResponse("<div class='comment'>" + comment + "</div>")  # expect: CWE-79


def preview_escaped(request):
    comment = request.POST.get("comment", "")
    return HttpResponse("<div class='comment'>" + escape(comment) + "</div>")  # expect: safe


def preview_format_html(request):
    comment = request.POST.get("comment", "")
    return HttpResponse(format_html("<div class='comment'>{}</div>", comment))  # expect: safe


def signature(request):
    sig = request.GET.get("sig", "")
    return render(request, "profile.html", {"sig": mark_safe(sig)})  # expect: CWE-79


def signature_plain(request):
    sig = request.GET.get("sig", "")
    return render(request, "profile.html", {"sig": sig})  # expect: safe


def tag(request, tag_name):
    html = f"<span class='tag'>{tag_name}</span>"
    return HttpResponse(html)  # expect: CWE-79


def api(request):
    q = request.GET.get("q", "")
    return HttpResponse(json.dumps({"q": q}), content_type="application/json")  # expect: safe


def about(request):
    return HttpResponse("<h1>About us</h1>")  # expect: safe
