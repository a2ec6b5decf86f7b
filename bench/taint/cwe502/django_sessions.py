"""Django views restoring saved state."""

import pickle

import jsonpickle
import yaml
from django.core import signing
from django.http import JsonResponse


def restore(request):
    state = request.COOKIES.get("state", "")
    obj = jsonpickle.decode(state)  # expect: CWE-502
    return JsonResponse({"ok": bool(obj)})


def restore_signed(request):
    state = request.COOKIES.get("state", "")
    obj = signing.loads(state)  # expect: safe
    return JsonResponse({"ok": bool(obj)})


def upload_model(request):
    blob = request.FILES["model"].read()
    model = pickle.loads(blob)  # expect: CWE-502
    return JsonResponse({"type": type(model).__name__})


def settings_import(request):
    text = request.body
    data = yaml.unsafe_load(text)  # expect: CWE-502
    return JsonResponse({"keys": list(data)})


def settings_import_safe(request):
    text = request.body
    data = yaml.load(text, Loader=yaml.CSafeLoader)  # expect: safe
    return JsonResponse({"keys": list(data)})


def cached(request):
    with open("/var/cache/app/state.pkl", "rb") as fh:
        data = pickle.loads(fh.read())  # expect: safe
    return JsonResponse({"n": len(data)})
