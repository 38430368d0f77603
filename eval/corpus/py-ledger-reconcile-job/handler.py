"""Ledger reconciliation: compares a merchant's settlement report with the ledger for one day and reports mismatches."""
import hashlib
import logging
from datetime import date

from config import Settings

logger = logging.getLogger()
logger.setLevel(logging.INFO)

SETTINGS = Settings.from_env()
logger.info("ledger-reconcile starting: %s", SETTINGS)


def _entries(merchant_id, day, source):
    # Stand-in for the two queries (settlement file rows vs ledger rows).
    rows = {}
    for i in range(40):
        h = int(hashlib.sha1(f"{merchant_id}:{day}:{i}".encode()).hexdigest()[:8], 16)
        amount = 500 + h % 90000
        if source == "ledger" and h % 17 == 0:
            amount += 1 + h % 300  # fee booked twice, a classic
        rows[f"txn_{h:08x}"] = amount
    return rows


def handler(event, context):
    merchant_id = event.get("merchant_id")
    day = event.get("date") or date.today().isoformat()
    currency = event.get("currency", "EUR")
    if not merchant_id:
        return {"status": "error", "error": "merchant_id is required"}

    settlement = _entries(merchant_id, day, "settlement")
    ledger = _entries(merchant_id, day, "ledger")
    mismatches = [
        {"txn": txn, "settlement_cents": amount, "ledger_cents": ledger.get(txn)}
        for txn, amount in settlement.items()
        if abs(ledger.get(txn, 0) - amount) > SETTINGS.tolerance_cents
    ]
    logger.info("merchant %s %s: %d rows, %d mismatches", merchant_id, day, len(settlement), len(mismatches))
    return {
        "status": "ok",
        "merchant_id": merchant_id,
        "date": day,
        "currency": currency,
        "checked": len(settlement),
        "mismatches": mismatches[: SETTINGS.batch_size],
    }
