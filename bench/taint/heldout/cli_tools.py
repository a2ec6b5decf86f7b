"""Interactive console tool (held-out cases: input() as the source)."""

import ast
import sqlite3
import subprocess


def main() -> None:
    expr = input("expression> ")
    print(eval(expr))  # expect: CWE-94
    print(ast.literal_eval(expr))  # expect: safe
    name = input("customer> ")
    db = sqlite3.connect("shop.db")
    db.execute("SELECT * FROM customers WHERE name = '" + name + "'")  # expect: CWE-89
    db.execute("SELECT * FROM customers WHERE name = ?", (name,))  # expect: safe
    folder = input("folder> ")
    subprocess.call("du -sh " + folder, shell=True)  # expect: CWE-78
    subprocess.call(["du", "-sh", folder])  # expect: safe


if __name__ == "__main__":
    main()
