"""Flask login flow with a "next" parameter."""

from urllib.parse import urlparse

from flask import Flask, redirect, request, url_for

app = Flask(__name__)
ALLOWED_HOSTS = {"example.com", "www.example.com"}


def is_local(target: str) -> bool:
    parsed = urlparse(target)
    return not parsed.netloc and not parsed.scheme


@app.route("/login", methods=["POST"])
def login():
    nxt = request.args.get("next", "/")
    return redirect(nxt)  # expect: CWE-601


@app.route("/login-local", methods=["POST"])
def login_local():
    nxt = request.args.get("next", "/")
    if not is_local(nxt):
        nxt = "/"
    return redirect(nxt)  # expect: safe


@app.route("/logout")
def logout():
    return redirect(url_for("index", msg=request.args.get("msg")))  # expect: safe


@app.route("/go")
def go():
    target = request.values["url"]
    return redirect("https://" + target)  # expect: CWE-601


@app.route("/item/<slug>")
def item(slug):
    return redirect("/items/" + slug)  # expect: safe


@app.route("/jump/<path:rest>")
def jump(rest):
    return redirect(f"/{rest}")  # expect: CWE-601


@app.route("/back")
def back():
    return redirect(request.referrer or "/")  # expect: CWE-601


@app.route("/host-checked")
def host_checked():
    target = request.args.get("to", "/")
    if urlparse(target).hostname not in ALLOWED_HOSTS:
        return redirect("/")  # expect: safe
    return redirect(target)  # expect: safe


@app.route("/index")
def index():
    return redirect("/home")  # expect: safe
