"""Flask document store: downloads and uploads under a base folder."""

import os
import shutil
from pathlib import Path

from flask import Flask, abort, request, send_file, send_from_directory
from werkzeug.utils import secure_filename

app = Flask(__name__)
BASE = "/srv/docs"
UPLOADS = "/srv/uploads"


@app.route("/download")
def download():
    name = request.args.get("name", "")
    return send_file(os.path.join(BASE, name))  # expect: CWE-22


@app.route("/download-dir")
def download_dir():
    name = request.args.get("name", "")
    return send_from_directory(BASE, name)  # expect: safe


@app.route("/download-base")
def download_base():
    name = request.args.get("name", "")
    return send_file(os.path.join(BASE, os.path.basename(name)))  # expect: safe


@app.route("/read/<path:doc>")
def read(doc):
    with open(BASE + "/" + doc) as fh:  # expect: CWE-22
        return fh.read()


@app.route("/read-checked/<path:doc>")
def read_checked(doc):
    full = os.path.realpath(os.path.join(BASE, doc))
    if not full.startswith(BASE + os.sep):
        abort(404)
    with open(full) as fh:  # expect: safe
        return fh.read()


@app.post("/upload")
def upload():
    f = request.files["file"]
    f.save(os.path.join(UPLOADS, f.filename))  # expect: CWE-22
    return "saved"


@app.post("/upload-safe")
def upload_safe():
    f = request.files["file"]
    f.save(os.path.join(UPLOADS, secure_filename(f.filename)))  # expect: safe
    return "saved"


@app.post("/archive")
def archive():
    src = request.form["src"]
    shutil.copy(Path(BASE) / src, "/srv/archive/")  # expect: CWE-22
    return "archived"


@app.get("/readme")
def readme():
    return Path(BASE, "README.txt").read_text()  # expect: safe


@app.delete("/doc")
def delete():
    name = request.args["name"]
    os.remove(f"{BASE}/{name}")  # expect: CWE-22
    return "deleted"
