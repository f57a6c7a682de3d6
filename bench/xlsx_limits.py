"""What reading a hostile .xlsx costs the desk: seconds and peak memory for each shape of bomb.

Each shape (tests/hostile_xlsx.py: at most 512 KB, hundreds of megabytes unpacked) is read by the
desk's reader in a fresh process, so that its peak memory is its own; a real table of 500 orders of
60 columns is read alike for comparison. Prints figures; asserts nothing.

    .venv/bin/python bench/xlsx_limits.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from webapp import create_app
from webapp.bulk import TableError, read_upload

with open(sys.argv[2], "rb") as file:
    data = file.read()
app = create_app({"TESTING": True, "INSTANCE_PATH": sys.argv[3]})
with app.test_request_context():
    read_upload("warm.csv", b"a,b\n1,2\n")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        table = read_upload("orders.xlsx", data)
        outcome = f"read: {len(table.rows)} rows"
    except TableError as refused:
        outcome = f"refused: {refused}"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    tracemalloc.start()  # a second read, traced (which slows it): what Python objects held at most
    try:
        read_upload("orders.xlsx", data)
    except TableError:
        pass
    python_peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"size": len(data), "seconds": seconds, "extra_mb": peak / 1024,
                  "python_mb": python_peak / 2**20, "outcome": outcome}))
"""


def real_table() -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append([f"Column {c}" for c in range(60)])
    for r in range(500):
        sheet.append([f"row {r} cell {c}" for c in range(60)])
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


def main() -> None:
    from tests.support.hostile_xlsx import SHAPES

    shapes = {**SHAPES, "a real table (500 rows, 60 columns)": real_table}
    # extra MB: the process's peak memory (RSS) beyond its peak before the read; Python MB: the most
    # that Python objects held during the read (the unpacked parts among them)
    print(f"{'shape':38} {'file':>9} {'seconds':>8} {'extra MB':>9} {'Python MB':>10}  outcome")
    with tempfile.TemporaryDirectory() as folder:
        instance = os.path.join(folder, "instance")
        for shape, build in shapes.items():
            path = os.path.join(folder, "upload.xlsx")
            with open(path, "wb") as file:  # built here, so that the reader's process holds only it
                file.write(build())
            env = {k: v for k, v in os.environ.items()
                   if k not in ("JUSTCLICK_USERNAME", "JUSTCLICK_API_KEY", "REDIS_URL")}
            done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), path, instance],
                                  capture_output=True, text=True, env=env, timeout=600)
            if done.returncode:
                print(f"{shape:38} failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{shape:38} {figures['size'] / 1024:>7.0f}KB {figures['seconds']:>8.2f} "
                  f"{figures['extra_mb']:>9.1f} {figures['python_mb']:>10.1f}  {figures['outcome']}")
    print("target: each bomb refused within 2 s and under 100 MB of extra memory")


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    main()
