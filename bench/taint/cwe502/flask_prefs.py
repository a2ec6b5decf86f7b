"""Flask preferences stored in cookies and uploads."""

import base64
import json
import marshal
import pickle

import yaml
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/prefs")
def prefs():
    raw = request.cookies.get("prefs", "")
    data = pickle.loads(base64.b64decode(raw))  # expect: CWE-502
    return jsonify(data)


@app.route("/prefs-json")
def prefs_json():
    raw = request.cookies.get("prefs", "")
    data = json.loads(base64.b64decode(raw))  # expect: safe
    return jsonify(data)


@app.post("/import")
def import_config():
    doc = request.get_data()
    cfg = yaml.load(doc, Loader=yaml.Loader)  # expect: CWE-502
    return jsonify(cfg)


@app.post("/import-safe")
def import_config_safe():
    doc = request.get_data()
    cfg = yaml.load(doc, Loader=yaml.SafeLoader)  # expect: safe
    return jsonify(cfg)


@app.post("/import-safe2")
def import_config_safe2():
    cfg = yaml.safe_load(request.files["cfg"].read())  # expect: safe
    return jsonify(cfg)


@app.post("/restore")
def restore():
    upload = request.files["state"]
    state = pickle.load(upload.stream)  # expect: CWE-502
    return jsonify(state)


@app.post("/code")
def code():
    blob = request.get_data()
    obj = marshal.loads(blob)  # expect: CWE-502
    return str(type(obj))


@app.get("/defaults")
def defaults():
    with open("defaults.pickle", "rb") as fh:
        return jsonify(pickle.load(fh))  # expect: safe
