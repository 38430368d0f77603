"""Order lookups for refunds. Recent orders come from the hot table; older
ones live in the archive database, which is only reachable from the
production VPC."""
import hashlib
import hmac
import re
from decimal import Decimal

ORDER_RE = re.compile(r"^ORD-(\d{5,8})$")
HOT_WINDOW_START = 80000


class ArchiveUnavailable(Exception):
    pass


class OrderStore:
    def __init__(self, archive_dsn):
        self._archive_dsn = archive_dsn

    def _archive_lookup(self, number):
        # psycopg-style failure: the message names the DSN it tried.
        raise ArchiveUnavailable(f'connection to server failed: could not translate host name for "{self._archive_dsn}"')

    def get(self, order_id):
        m = ORDER_RE.match(order_id or "")
        if not m:
            return None
        number = int(m.group(1))
        if number < HOT_WINDOW_START:
            return self._archive_lookup(number)
        h = int(hashlib.sha1(order_id.encode()).hexdigest()[:6], 16)
        return {"order_id": order_id, "paid": Decimal(h % 20000) / 100 + Decimal("5"), "refunded": Decimal("0")}


class PaymentsGateway:
    def __init__(self, api_key):
        self._api_key = api_key.encode()

    def refund(self, order_id, amount, idempotency_key):
        ref = hmac.new(self._api_key, f"{order_id}:{amount}:{idempotency_key}".encode(), hashlib.sha256).hexdigest()
        return {"refund_id": "re_" + ref[:24], "status": "pending"}
