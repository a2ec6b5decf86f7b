"""A Flask blog on a blueprint (held-out cases: written after the rules were frozen)."""

import os
import sqlite3
import subprocess

import requests
import yaml
from flask import Blueprint, abort, current_app, redirect, request, send_file, session

bp = Blueprint("blog", __name__)
STATUSES = ("draft", "published")


def conn():
    return sqlite3.connect(current_app.config["DB"])


@bp.route("/posts")
def posts():
    status = request.values.get("status", "published")
    sql = " ".join(["SELECT * FROM posts WHERE status =", "'" + status + "'"])
    return {"posts": conn().execute(sql).fetchall()}  # expect: CWE-89


@bp.route("/posts/tag/<tag>")
def by_tag(tag):
    params = {"tag": tag}
    rows = conn().execute("SELECT * FROM posts WHERE tag = :tag", params).fetchall()  # expect: safe
    return {"posts": rows}


@bp.route("/posts/status")
def by_status():
    status = request.args.get("s", "draft")
    if status in STATUSES:
        rows = conn().execute(f"SELECT * FROM posts WHERE status = '{status}'").fetchall()  # expect: safe
        return {"posts": rows}
    abort(400)


@bp.route("/posts/search")
def search():
    words = request.args.getlist("w")
    clause = " OR ".join("body LIKE '%%%s%%'" % w for w in words)
    return {"posts": conn().execute("SELECT id FROM posts WHERE " + clause).fetchall()}  # expect: CWE-89


@bp.post("/import")
def import_posts():
    data = yaml.load(request.files["file"].stream, Loader=yaml.SafeLoader)  # expect: safe
    return {"n": len(data)}


@bp.post("/import-full")
def import_full():
    raw = request.files["file"].read()
    data = yaml.load(raw, yaml.UnsafeLoader)  # expect: CWE-502
    return {"n": len(data)}


@bp.route("/attachment/<name>")
def attachment(name):
    folder = current_app.config["UPLOADS"]
    return send_file(f"{folder}/{name}")  # expect: CWE-22


@bp.route("/attachment-safe/<name>")
def attachment_safe(name):
    folder = current_app.config["UPLOADS"]
    return send_file(os.path.join(folder, os.path.basename(name)))  # expect: safe


@bp.route("/goto")
def goto():
    if (dest := request.args.get("dest")) is not None:
        return redirect(dest)  # expect: CWE-601
    return redirect("/")  # expect: safe


@bp.route("/lang/<code>")
def lang(code):
    session["lang"] = code  # expect: CWE-501
    return redirect("/")  # expect: safe


@bp.route("/thumb")
def thumb():
    size = request.args.get("size", "64")
    subprocess.run(["convert", "in.png", "-resize", size, "out.png"], check=True)  # expect: safe
    os.system("convert in.png -resize " + size + " out.png")  # expect: CWE-78
    return "ok"


@bp.route("/ping-hook")
def ping_hook():
    hook = session.get("hook") or request.args["hook"]
    requests.head(hook, timeout=3)  # expect: CWE-918
    return "ok"


@bp.route("/title")
def title():
    t = request.args.get("t", "")
    return f"<title>{t}</title>"  # expect: CWE-79


@bp.route("/count")
def count():
    n = request.args.get("n", "0")
    return f"<p>{int(n)} posts</p>"  # expect: safe
