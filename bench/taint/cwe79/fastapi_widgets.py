"""FastAPI widget endpoints."""

import html

from fastapi import Cookie, FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/widget", response_class=HTMLResponse)
def widget(title: str):
    return f"<div class='widget'><h2>{title}</h2></div>"  # expect: CWE-79


@app.get("/widget-escaped", response_class=HTMLResponse)
def widget_escaped(title: str):
    return f"<div class='widget'><h2>{html.escape(title)}</h2></div>"  # expect: safe


@app.get("/widget-json")
def widget_json(title: str):
    return f"<div class='widget'><h2>{title}</h2></div>"  # expect: safe


@app.get("/theme")
def theme(theme: str = Cookie("light")):
    return HTMLResponse("<body class='" + theme + "'></body>")  # expect: CWE-79


@app.get("/count")
def count(n: int):
    return HTMLResponse(content=f"<p>{n} items</p>")  # expect: safe


@app.get("/note")
def note(request_id: str, body: str):
    page = "<article data-id='" + request_id + "'>"
    page += body + "</article>"
    return HTMLResponse(content=page)  # expect: CWE-79
