"""Invoice export: builds the tenant's invoice CSV for the finance team and returns a preview plus a download link."""
import csv
import hashlib
import io
import os
import time
from datetime import date, timedelta

EXPORT_DIR = "/tmp"
# Generating the CSV scans every invoice of the tenant; reuse the file while the container is warm.
EXPORT_MAX_AGE_S = 3600
TENANTS = {"acme": 180, "globex": 95, "initech": 40}  # tenant -> invoices on file
BUCKET = os.environ.get("EXPORT_BUCKET", "finance-exports")


def _invoices(tenant, count):
    start = date(2024, 1, 1)
    for i in range(count):
        h = int(hashlib.sha256(f"{tenant}-{i}".encode()).hexdigest()[:8], 16)
        yield {
            "invoice": f"INV-{tenant[:3].upper()}-{1000 + i}",
            "issued": (start + timedelta(days=i % 160)).isoformat(),
            "customer": f"customer-{h % 57}",
            "amount": f"{(h % 500000) / 100:.2f}",
            "status": ("paid", "open", "overdue")[h % 3],
        }


def _write_export(path, tenant, requested_by, period):
    buf = io.StringIO()
    buf.write(f"# {tenant} invoices, period {period}, requested by {requested_by}\n")
    writer = csv.DictWriter(buf, fieldnames=["invoice", "issued", "customer", "amount", "status"])
    writer.writeheader()
    for row in _invoices(tenant, TENANTS[tenant]):
        writer.writerow(row)
    with open(path, "w", encoding="utf-8") as f:
        f.write(buf.getvalue())


def handler(event, context):
    tenant = event.get("tenant")
    requested_by = event.get("requested_by")
    period = event.get("period") or date.today().strftime("%Y-%m")
    if tenant not in TENANTS or not requested_by:
        return {"statusCode": 400, "error": "tenant and requested_by are required"}
    if event.get("report", "invoices") != "invoices":
        return {"statusCode": 400, "error": "only the invoices report can be exported"}

    path = os.path.join(EXPORT_DIR, f"export-{tenant}.csv")
    fresh = os.path.exists(path) and time.time() - os.path.getmtime(path) < EXPORT_MAX_AGE_S
    if not fresh:
        _write_export(path, tenant, requested_by, period)

    with open(path, encoding="utf-8") as f:
        content = f.read()
    lines = content.splitlines()
    return {
        "statusCode": 200,
        "tenant": tenant,
        "rows": len(lines) - 2,
        "bytes": len(content.encode("utf-8")),
        "preview": lines[:4],
        "download": f"s3://{BUCKET}/{tenant}/invoices-{period}.csv",
        "reused": fresh,
    }
