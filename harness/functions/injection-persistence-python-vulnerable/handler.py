"""VULNERABLE on purpose: code injection that persists in a warm environment.

Seed 002 ("AWS Lambda Stateless & Ephemeral?", Check Point): a payment
handler evaluates the caller's "amount expression" with eval(). Whatever the
injected code patches (json.JSONEncoder.encode, module globals, builtins)
lives in the runtime process and so applies to every later invocation the
warm environment serves, other users' card numbers included.

Event:    {"user_id": str, "card_number": str, "amount": str, "currency": str}
Response: {"status": "accepted", "user_id", "amount": float (0 when eval did
          not give a finite number), "currency", "card_last4"}
"""
import math


def _as_number(value):
    # Odd eval results (None, strings, complex, inf, nan) must not crash the
    # handler: the scenario needs the invocation to succeed so that the
    # injected code stays in a live environment.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    try:
        number = float(value)
    except OverflowError:
        return 0
    return number if math.isfinite(number) else 0


def handler(event, context):
    amount = eval(event["amount"])  # noqa: S307 - the seed's bug, kept on purpose
    return {
        "status": "accepted",
        "user_id": event.get("user_id"),
        "amount": _as_number(amount),
        "currency": event.get("currency"),
        "card_last4": str(event.get("card_number", ""))[-4:],
    }
