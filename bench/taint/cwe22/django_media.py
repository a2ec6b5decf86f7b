"""Django media views: thumbnails and exports."""

import os

from django.http import FileResponse, Http404, HttpResponse
from django.utils._os import safe_join

MEDIA_ROOT = "/srv/media"
EXPORTS = {"daily": "daily.csv", "weekly": "weekly.csv"}


def thumbnail(request):
    path = request.GET["path"]
    return FileResponse(open(os.path.join(MEDIA_ROOT, "thumbs", path), "rb"))  # expect: CWE-22


def thumbnail_safe(request):
    path = request.GET["path"]
    return FileResponse(open(safe_join(MEDIA_ROOT, "thumbs", path), "rb"))  # expect: safe


def export(request, report):
    filename = EXPORTS.get(report)
    if filename is None:
        raise Http404
    return FileResponse(open(os.path.join(MEDIA_ROOT, filename), "rb"))  # expect: safe


def export_any(request, report):
    return FileResponse(open(os.path.join(MEDIA_ROOT, report + ".csv"), "rb"))  # expect: CWE-22


def note(request):
    title = request.POST["title"]
    with open("/srv/notes/" + title + ".txt", "w") as fh:  # expect: CWE-22
        fh.write(request.POST["body"])
    return HttpResponse("saved")


def note_safe(request):
    title = request.POST["title"]
    with open("/srv/notes/" + os.path.basename(title) + ".txt", "w") as fh:  # expect: safe
        fh.write(request.POST["body"])
    return HttpResponse("saved")


def legal(request):
    with open(os.path.join(MEDIA_ROOT, "legal.html")) as fh:  # expect: safe
        return HttpResponse(fh.read())
