"""Flask link preview and webhook tester."""

from urllib.parse import urlparse
from urllib.request import urlopen

import requests
from flask import Flask, abort, jsonify, request

app = Flask(__name__)
ALLOWED = {"api.github.com", "example.com"}


@app.route("/preview")
def preview():
    url = request.args["url"]
    r = requests.get(url, timeout=5)  # expect: CWE-918
    return jsonify(status=r.status_code)


@app.route("/preview-checked")
def preview_checked():
    url = request.args["url"]
    if urlparse(url).hostname not in ALLOWED:
        abort(400)
    r = requests.get(url, timeout=5)  # expect: safe
    return jsonify(status=r.status_code)


@app.route("/search")
def search():
    q = request.args.get("q", "")
    r = requests.get("https://api.example.com/search", params={"q": q}, timeout=5)  # expect: safe
    return jsonify(r.json())


@app.post("/webhook-test")
def webhook_test():
    hook = request.json["url"]
    requests.post(hook, json={"ping": True}, timeout=5)  # expect: CWE-918
    return "sent"


@app.route("/raw")
def raw():
    target = request.args.get("target", "")
    with urlopen("http://" + target + "/status") as resp:  # expect: CWE-918
        return resp.read()


@app.route("/user/<login>")
def user(login):
    r = requests.get(f"https://api.github.com/users/{login}", timeout=5)  # expect: safe
    return jsonify(r.json())


@app.route("/status")
def status():
    r = requests.get("https://status.example.com/api", timeout=5)  # expect: safe
    return jsonify(r.json())


@app.route("/proxy")
def proxy():
    host = request.headers.get("X-Backend", "")
    r = requests.request("GET", f"http://{host}/internal", timeout=5)  # expect: CWE-918
    return r.text
