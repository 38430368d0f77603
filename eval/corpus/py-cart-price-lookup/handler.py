"""Cart pricing: totals a shopper's cart in their currency (list price, VAT, shipping threshold)."""
import base64
import json
from decimal import Decimal

import pricing

FREE_SHIPPING_OVER = Decimal("100")
SHIPPING = Decimal("6.90")


def _reply(status, payload):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(payload)}


def handler(event, context):
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        cart = json.loads(raw)
    except ValueError:
        return _reply(400, {"error": "invalid JSON"})
    if not isinstance(cart, dict) or not isinstance(cart.get("items"), list):
        return _reply(400, {"error": "expected {customer_id, currency, items: [...]}"})

    currency = cart.get("currency", "EUR")
    if currency not in pricing.VAT:
        return _reply(422, {"error": "unsupported currency"})

    lines, net = [], Decimal("0")
    for item in cart["items"]:
        if not isinstance(item, dict):
            return _reply(422, {"error": "each item must be an object"})
        sku, qty = item.get("sku"), item.get("qty", 1)
        if not pricing.valid_sku(sku) or not isinstance(qty, int) or qty < 1:
            return _reply(422, {"error": "each item needs a valid sku and a positive qty"})
        try:
            price = pricing.unit_price(sku, currency)
        except KeyError:
            return _reply(422, {"error": f"sku {sku} is not sold"})
        net += price * qty
        lines.append({"sku": sku, "qty": qty, "unit_price": str(price), "line_total": str(price * qty)})

    vat = (net * pricing.VAT[currency]).quantize(Decimal("0.01"))
    shipping = Decimal("0") if net >= FREE_SHIPPING_OVER else SHIPPING
    info = pricing.unit_price.cache_info()
    return _reply(200, {
        "customer_id": cart.get("customer_id"),
        "currency": currency,
        "lines": lines,
        "net": str(net), "vat": str(vat), "shipping": str(shipping),
        "total": str(net + vat + shipping),
        "price_cache": {"hits": info.hits, "misses": info.misses, "size": info.currsize},
    })
