"""FastAPI service (held-out cases)."""

import json
import subprocess
from pathlib import Path
from typing import Optional

import httpx
import ldap
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

app = FastAPI()
REPORTS = Path("/srv/reports")


def get_db():
    yield Session()


@app.get("/report")
def report(name: str = Query(..., min_length=1)):
    return PlainTextResponse((REPORTS / f"{name}.txt").read_text())  # expect: CWE-22


@app.get("/report-safe")
def report_safe(name: str = Query(..., pattern="^[a-z]+$")):
    return PlainTextResponse((REPORTS / "daily.txt").read_text())  # expect: safe


@app.get("/orders")
def orders(sort: Optional[str] = None, db: Session = Depends(get_db)):
    order = sort or "id"
    return db.execute(text("SELECT * FROM orders ORDER BY " + order)).all()  # expect: CWE-89


@app.get("/orders/{oid}")
def order(oid: int, db: Session = Depends(get_db)):
    return db.execute(text("SELECT * FROM orders WHERE id = :id"), {"id": oid}).first()  # expect: safe


@app.get("/whoami")
def whoami(x_user: str = Header(...)):
    c = ldap.initialize("ldap://ldap.internal")
    return c.search_s("dc=corp", ldap.SCOPE_SUBTREE, f"(uid={x_user})")  # expect: CWE-90


@app.get("/whoami-safe")
def whoami_safe(x_user: str = Header(...)):
    c = ldap.initialize("ldap://ldap.internal")
    return c.search_s("dc=corp", ldap.SCOPE_SUBTREE, "(objectClass=person)")  # expect: safe


@app.post("/hook")
async def hook(request: Request):
    body = json.loads(await request.body())
    async with httpx.AsyncClient() as client:
        await client.post(body["callback"], json={"ok": True})  # expect: CWE-918
    return {"ok": True}


@app.get("/hello", response_class=HTMLResponse)
def hello(name: str = "world"):
    page = "<h1>Hello, %s</h1>" % name
    return page  # expect: CWE-79


@app.get("/hello-json")
def hello_json(name: str = "world"):
    return {"greeting": "<h1>Hello, %s</h1>" % name}  # expect: safe


@app.get("/go")
def go(to: str):
    return RedirectResponse(url=to)  # expect: CWE-601


@app.get("/go-home")
def go_home(to: str):
    return RedirectResponse(url=app.url_path_for("home"))  # expect: safe


@app.get("/lint")
def lint(path: str):
    out = subprocess.run(["ruff", "check", "--", path], capture_output=True, text=True)  # expect: safe
    return {"out": out.stdout}


@app.get("/calc")
def calc(q: str):
    return {"v": eval(q, {"__builtins__": None}, {})}  # expect: CWE-94


@app.get("/render")
def render(tpl: str):
    from jinja2 import Template
    return {"out": Template(tpl).render()}  # expect: CWE-1336
