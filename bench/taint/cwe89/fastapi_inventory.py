"""FastAPI inventory service on SQLAlchemy."""

from fastapi import Depends, FastAPI, Query
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

app = FastAPI()
engine = create_engine("sqlite:///inventory.db")


def get_db():
    with Session(engine) as session:
        yield session


def build_filter(sku: str) -> str:
    clause = "sku = '" + sku + "'"
    return "SELECT * FROM items WHERE " + clause


@app.get("/items")
def list_items(sku: str = Query(...), db: Session = Depends(get_db)):
    rows = db.execute(text(build_filter(sku))).fetchall()  # expect: CWE-89
    return [dict(r._mapping) for r in rows]


@app.get("/items/safe")
def list_items_safe(sku: str = Query(...), db: Session = Depends(get_db)):
    rows = db.execute(text("SELECT * FROM items WHERE sku = :sku"), {"sku": sku}).fetchall()  # expect: safe
    return [dict(r._mapping) for r in rows]


@app.get("/items/{item_id}")
def get_item(item_id: str, db: Session = Depends(get_db)):
    row = db.execute(text(f"SELECT * FROM items WHERE id = {item_id}")).first()  # expect: CWE-89
    return dict(row._mapping) if row else {}


@app.get("/typed/{item_id}")
def get_item_typed(item_id: int, db: Session = Depends(get_db)):
    row = db.execute(text(f"SELECT * FROM items WHERE id = {item_id}")).first()  # expect: safe
    return dict(row._mapping) if row else {}


@app.delete("/items")
def delete_items(location: str, db: Session = Depends(get_db)):
    with engine.connect() as conn:
        conn.exec_driver_sql("DELETE FROM items WHERE location = '%s'" % location)  # expect: CWE-89
    return {"ok": True}


@app.get("/health")
def health(db: Session = Depends(get_db)):
    db.execute(text("SELECT 1"))  # expect: safe
    return {"ok": True}
