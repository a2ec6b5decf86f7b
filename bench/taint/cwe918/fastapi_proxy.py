"""FastAPI image proxy."""

import httpx
from fastapi import FastAPI, Form, HTTPException

app = FastAPI()
CDN = "https://cdn.example.com/"


@app.get("/img")
async def img(url: str):
    async with httpx.AsyncClient() as client:
        r = await client.get(url)  # expect: CWE-918
    return {"size": len(r.content)}


@app.get("/img-cdn")
async def img_cdn(url: str):
    if not url.startswith(CDN):
        raise HTTPException(400)
    async with httpx.AsyncClient() as client:
        r = await client.get(url)  # expect: safe
    return {"size": len(r.content)}


@app.get("/img-path/{name}")
async def img_path(name: str):
    async with httpx.AsyncClient() as client:
        r = await client.get(CDN + name)  # expect: safe
    return {"size": len(r.content)}


@app.get("/fetch")
def fetch(target: str):
    return {"text": httpx.Client().get(target).text}  # expect: CWE-918


@app.get("/avatar")
def avatar(user: str):
    return {"text": httpx.get(f"https://avatars.example.com/{user}.png").text}  # expect: safe


@app.post("/callback")
def callback(callback_url: str = Form(...)):
    httpx.post(callback_url, json={"done": True})  # expect: CWE-918
    return {"ok": True}
