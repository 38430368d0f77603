"""Invoice search for the customer portal: lists an account's invoices matching a saved-search filter."""
import ast
import hashlib
from datetime import date, timedelta

MAX_FILTER_CHARS = 2000
FILTER_KEYS = {"status", "min_total", "max_total", "issued_after", "issued_before"}
STATUSES = {"draft", "open", "paid", "overdue", "void"}
SORTS = {"due_date", "total", "issued"}


class FilterError(ValueError):
    pass


def parse_filter(text):
    """Saved searches are stored as Python-style dict literals by the old portal,
    e.g. "{'status': ['open', 'overdue'], 'min_total': 100}"."""
    if text in (None, ""):
        return {}
    if not isinstance(text, str) or len(text) > MAX_FILTER_CHARS:
        raise FilterError("filter must be a string of at most 2000 characters")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise FilterError("filter is not a valid literal")
    if not isinstance(value, dict) or not set(value) <= FILTER_KEYS:
        raise FilterError("filter must be a dict with keys from " + ", ".join(sorted(FILTER_KEYS)))
    statuses = value.get("status")
    if statuses is not None:
        if isinstance(statuses, str):
            statuses = [statuses]
        if not isinstance(statuses, (list, tuple, set)) or not set(statuses) <= STATUSES:
            raise FilterError("status must be one or more of " + ", ".join(sorted(STATUSES)))
        value["status"] = set(statuses)
    for key in ("min_total", "max_total"):
        if key in value and not isinstance(value[key], (int, float)):
            raise FilterError(f"{key} must be a number")
    return value


def _invoices_for(account_id):
    # Stand-in for the invoices query scoped to the account.
    start = date(2024, 1, 5)
    for i in range(30):
        h = int(hashlib.sha256(f"{account_id}/{i}".encode()).hexdigest()[:8], 16)
        issued = start + timedelta(days=7 * i)
        yield {
            "number": f"INV-{2400 + i}",
            "issued": issued.isoformat(),
            "due_date": (issued + timedelta(days=30)).isoformat(),
            "total": round((h % 250000) / 100, 2),
            "status": ("open", "paid", "paid", "overdue", "void")[h % 5],
        }


def _matches(inv, flt):
    if "status" in flt and inv["status"] not in flt["status"]:
        return False
    if "min_total" in flt and inv["total"] < flt["min_total"]:
        return False
    if "max_total" in flt and inv["total"] > flt["max_total"]:
        return False
    if "issued_after" in flt and inv["issued"] <= str(flt["issued_after"]):
        return False
    if "issued_before" in flt and inv["issued"] >= str(flt["issued_before"]):
        return False
    return True


def handler(event, context):
    account_id = event.get("account_id")
    if not account_id:
        return {"statusCode": 401, "error": "account_id missing"}
    sort = event.get("sort", "due_date")
    if sort not in SORTS:
        return {"statusCode": 400, "error": "sort must be one of " + ", ".join(sorted(SORTS))}
    try:
        flt = parse_filter(event.get("filter"))
    except FilterError as err:
        return {"statusCode": 400, "error": str(err)}

    found = sorted((i for i in _invoices_for(account_id) if _matches(i, flt)), key=lambda i: i[sort])
    return {
        "statusCode": 200,
        "account_id": account_id,
        "count": len(found),
        "invoices": found[:25],
        "applied_filter": {k: sorted(v) if isinstance(v, set) else v for k, v in flt.items()},
    }
