"""A dashboard application's Flask views (patterns from real applications): the login URL with
the current page as next, a next path cleaned by a helper of another module, a named URL check."""

from flask import Flask, redirect, request, url_for

from dash.authentication import get_login_url, get_next_path

app = Flask(__name__)


def is_safe_redirect_url(target):
    return target.startswith("/") and not target.startswith("//")


@app.route("/unauthorized")
def redirect_to_login():
    login_url = get_login_url(next=request.url, external=False)
    return redirect(login_url)  # expect: safe


@app.route("/ldap/login", methods=["GET", "POST"])
def ldap_login():
    index_url = url_for("index")
    unsafe_next_path = request.args.get("next", index_url)
    next_path = get_next_path(unsafe_next_path)
    return redirect(next_path)  # expect: safe


@app.route("/sso/done")
def sso_done():
    target = request.args.get("target", "/")
    if not is_safe_redirect_url(target):
        target = "/"
    return redirect(target)  # expect: safe


@app.route("/sso/back")
def sso_back():
    return redirect(request.args.get("target", "/"))  # expect: CWE-601
