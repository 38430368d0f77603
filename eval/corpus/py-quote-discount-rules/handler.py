"""Sales quote preview: prices a basket and applies the discount rule the sales rep is drafting in the quote editor."""
import base64
import json
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import catalog

CENT = Decimal("0.01")


class QuoteError(Exception):
    pass


class QuoteEngine:
    # Functions the rule editor documents for reps.
    RULE_FUNCTIONS = {"min": min, "max": max, "round": round, "abs": abs, "ceil": math.ceil, "floor": math.floor}

    def __init__(self, price_book, coupons):
        self.price_book = price_book
        self.coupons = coupons

    def subtotal(self, sku, quantity):
        item = self.price_book.get(sku)
        if item is None:
            raise QuoteError(f"unknown sku {sku!r}")
        return item["unit_price"] * quantity

    def apply_rule(self, rule, variables):
        # Rules are short arithmetic expressions, e.g.
        #   "subtotal * (0.85 if quantity >= 20 else 0.95)"
        value = eval(rule, dict(self.RULE_FUNCTIONS), variables)
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise QuoteError(f"discount rule must return a number, got {value!r}")

    def quote(self, sku, quantity, coupon=None, rule=None):
        if not isinstance(quantity, int) or quantity < 1:
            raise QuoteError("quantity must be a positive integer")
        subtotal = self.subtotal(sku, quantity)
        total = subtotal
        if rule:
            total = self.apply_rule(rule, {"subtotal": float(subtotal), "quantity": quantity,
                                           "unit_price": float(self.price_book[sku]["unit_price"])})
        if coupon:
            off = self.coupons.get(coupon.upper())
            if off is None:
                raise QuoteError(f"coupon {coupon!r} is not valid")
            total = total * (1 - off)
        total = max(Decimal("0"), total).quantize(CENT, rounding=ROUND_HALF_UP)
        return {"sku": sku, "quantity": quantity, "subtotal": str(subtotal.quantize(CENT)),
                "total": str(total), "discount": str((subtotal - total).quantize(CENT))}


engine = QuoteEngine(catalog.PRICE_BOOK, catalog.COUPONS)


def _reply(status, payload):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(payload)}


def handler(event, context):
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        req = json.loads(raw)
    except ValueError:
        return _reply(400, {"error": "body must be JSON"})
    if not isinstance(req, dict):
        return _reply(400, {"error": "body must be a JSON object"})

    try:
        line = engine.quote(req.get("sku"), req.get("quantity"), req.get("coupon"), req.get("discount_rule"))
    except QuoteError as err:
        return _reply(422, {"error": str(err)})
    except (SyntaxError, NameError, TypeError, ZeroDivisionError) as err:
        return _reply(422, {"error": f"discount rule could not be evaluated: {err}"})
    return _reply(200, {"customer_id": req.get("customer_id"), "currency": "USD", "line": line})
