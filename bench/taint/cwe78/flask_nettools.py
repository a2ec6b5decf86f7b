"""Flask network tools page: ping, traceroute and DNS lookups through system commands."""

import os
import shlex
import subprocess

from flask import Flask, abort, request

app = Flask(__name__)


def ping_command(host: str) -> str:
    return "ping -c 1 " + host


@app.route("/ping")
def ping():
    host = request.args.get("host", "localhost")
    os.system(ping_command(host))  # expect: CWE-78
    return "sent"


@app.route("/ping-quoted")
def ping_quoted():
    host = request.args.get("host", "localhost")
    os.system("ping -c 1 " + shlex.quote(host))  # expect: safe
    return "sent"


@app.route("/trace")
def trace():
    host = request.args["host"]
    out = subprocess.check_output(f"traceroute {host}", shell=True)  # expect: CWE-78
    return out


@app.route("/trace-list")
def trace_list():
    host = request.args["host"]
    out = subprocess.check_output(["traceroute", "--", host])  # expect: safe
    return out


@app.post("/dig")
def dig():
    name = request.form["name"]
    with os.popen("dig +short %s" % name) as pipe:  # expect: CWE-78
        return pipe.read()


@app.post("/dig-safe")
def dig_safe():
    name = request.form["name"]
    if name not in ("example.com", "example.org"):
        abort(400)
    with os.popen("dig +short %s" % name) as pipe:  # expect: safe
        return pipe.read()


@app.get("/uptime")
def uptime():
    return subprocess.run("uptime", shell=True, capture_output=True, text=True).stdout  # expect: safe


@app.get("/archive/<name>")
def archive(name):
    status = subprocess.call(["sh", "-c", "tar czf /tmp/out.tgz " + name])  # expect: CWE-78
    return str(status)


@app.get("/count/<int:n>")
def count(n):
    subprocess.run("seq %d > /tmp/seq.txt" % int(n), shell=True)  # expect: safe
    return "ok"
