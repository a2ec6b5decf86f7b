"""Django views for a pricing-rule engine."""

from django.http import HttpResponse, JsonResponse
from django.template import Context, Engine, Template

DISCOUNTS = {"ten": 0.1, "twenty": 0.2}


def apply_rule(request):
    rule = request.POST["rule"]
    price = 100
    result = eval(rule, {"price": price})  # expect: CWE-94
    return JsonResponse({"price": result})


def apply_named_rule(request):
    name = request.POST["rule"]
    if name not in DISCOUNTS:
        return JsonResponse({"error": "unknown"}, status=400)
    result = eval(f"100 * (1 - {DISCOUNTS[name]})")  # expect: safe
    return JsonResponse({"price": result})


def hook(request, hook_name):
    exec("run_" + hook_name + "()")  # expect: CWE-94
    return HttpResponse("done")


def banner(request):
    text = request.GET.get("text", "")
    tpl = Template("<div class='banner'>" + text + "</div>")  # expect: CWE-1336
    return HttpResponse(tpl.render(Context({})))


def banner_safe(request):
    text = request.GET.get("text", "")
    tpl = Template("<div class='banner'>{{ text }}</div>")  # expect: safe
    return HttpResponse(tpl.render(Context({"text": text})))


def engine_preview(request):
    body = request.body.decode()
    tpl = Engine().from_string(body)  # expect: CWE-1336
    return HttpResponse(tpl.render(Context({})))


def weights(request):
    factor = float(request.GET.get("factor", "1"))
    return JsonResponse({"w": eval("2 * %f" % factor)})  # expect: safe
