"""FastAPI asset server."""

from pathlib import Path

from fastapi import FastAPI, HTTPException, UploadFile
from fastapi.responses import FileResponse

app = FastAPI()
ASSETS = Path("/srv/assets")


@app.get("/assets/{name}")
def asset(name: str):
    return FileResponse(ASSETS / name)  # expect: CWE-22


@app.get("/assets-checked/{name}")
def asset_checked(name: str):
    path = (ASSETS / name).resolve()
    if not path.is_relative_to(ASSETS):
        raise HTTPException(404)
    return FileResponse(path)  # expect: safe


@app.get("/logs")
def logs(day: str):
    return {"text": open(f"/var/log/app/{day}.log").read()}  # expect: CWE-22


@app.get("/logs-id")
def logs_id(day: int):
    return {"text": open(f"/var/log/app/{day}.log").read()}  # expect: safe


@app.post("/upload")
async def upload(file: UploadFile):
    data = await file.read()
    (ASSETS / file.filename).write_bytes(data)  # expect: CWE-22
    return {"ok": True}


@app.get("/favicon.ico")
def favicon():
    return FileResponse(ASSETS / "favicon.ico")  # expect: safe
