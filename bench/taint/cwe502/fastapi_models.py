"""FastAPI model upload service."""

import pickle

import numpy as np
import pandas as pd
import yaml
from fastapi import FastAPI, File, Request, UploadFile

app = FastAPI()


@app.post("/model")
async def model(file: UploadFile = File(...)):
    data = await file.read()
    clf = pickle.loads(data)  # expect: CWE-502
    return {"type": type(clf).__name__}


@app.post("/frame")
async def frame(file: UploadFile = File(...)):
    df = pd.read_pickle(file.file)  # expect: CWE-502
    return {"rows": len(df)}


@app.post("/frame-csv")
async def frame_csv(file: UploadFile = File(...)):
    df = pd.read_csv(file.file)  # expect: safe
    return {"rows": len(df)}


@app.post("/array")
async def array(file: UploadFile = File(...)):
    arr = np.load(file.file, allow_pickle=True)  # expect: CWE-502
    return {"shape": list(arr.shape)}


@app.post("/array-safe")
async def array_safe(file: UploadFile = File(...)):
    arr = np.load(file.file, allow_pickle=False)  # expect: safe
    return {"shape": list(arr.shape)}


@app.post("/yaml")
async def load_yaml(request: Request):
    body = await request.body()
    return {"data": yaml.load(body, Loader=yaml.FullLoader)}  # expect: CWE-502


@app.post("/yaml-safe")
async def load_yaml_safe(request: Request):
    body = await request.body()
    return {"data": yaml.safe_load(body)}  # expect: safe
