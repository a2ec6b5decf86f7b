"""A CTF platform's Flask views (patterns from real applications): safe redirects checked by a
helper, CSV exports sent from memory, plain-text answers, classes picked from a table."""

import io

from flask import Blueprint, Flask, abort, make_response, redirect, request, send_file

from ctf.social import get_social_share
from ctf.utils import validators
from ctf.utils.csv import dump_csv

app = Flask(__name__)
admin = Blueprint("admin", __name__)


@app.route("/register", methods=["POST"])
def register():
    if request.args.get("next") and validators.is_safe_url(request.args.get("next")):
        return redirect(request.args.get("next"))  # expect: safe
    return redirect("/challenges")


@app.route("/register-wrong", methods=["POST"])
def register_wrong():
    if validators.is_safe_url(request.args.get("next")):
        return redirect(request.args.get("then"))  # expect: CWE-601
    return redirect("/challenges")


@app.route("/login", methods=["POST"])
def login():
    return redirect(request.args.get("next") or request.path)  # expect: CWE-601


def init_request_processors(application):
    application_root = application.config.get("APPLICATION_ROOT")

    @application.before_request
    def force_subdirectory_redirect():
        if request.path.startswith(application_root) is False:
            return redirect(application_root + request.script_root + request.full_path)  # expect: safe


@admin.route("/admin/export/csv")
def export_csv():
    table = request.args.get("table")
    output = dump_csv(name=table)
    return send_file(output, as_attachment=True, download_name=f"{table}.csv")  # expect: safe


@admin.route("/admin/export/raw", methods=["POST"])
def export_raw():
    data = request.get_json()
    buffer = io.BytesIO(data["text"].encode())
    return send_file(buffer, as_attachment=True, download_name="raw.txt")  # expect: safe


@admin.route("/admin/export/file")
def export_file():
    name = request.args.get("name")
    return send_file("/srv/exports/" + name)  # expect: CWE-22


@app.route("/share/<type>")
def share(type):
    social_share = get_social_share(type)
    if social_share is None:
        abort(404)
    s = social_share()
    if request.args.get("mac") != s.mac:
        abort(404)
    return s.content  # expect: safe


@app.route("/debug")
def debug():
    headers = dict(request.headers)
    resp = ""
    for k, v in headers.items():
        resp += f"{k}: {v}\n"
    r = make_response(resp)  # expect: safe
    r.mimetype = "text/plain"
    return r  # expect: safe


@app.route("/echo")
def echo():
    r = make_response(request.args.get("msg", ""))  # expect: CWE-79
    r.headers["X-Frame-Options"] = "DENY"
    return r  # expect: safe


@app.route("/echo-html")
def echo_html():
    r = make_response(request.args.get("text", ""))  # expect: CWE-79
    r.mimetype = "text/html"
    return r


@app.route("/echo-text")
def echo_text():
    return request.args.get("msg", ""), 200, {"Content-Type": "text/plain; charset=utf-8"}  # expect: safe
