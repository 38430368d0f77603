"""Remembers the last few SNS message ids this container processed.

SNS -> SQS is at-least-once; redeliveries usually arrive within seconds on
the same warm container, so a short in-memory window catches most of them.
Only digests are kept so a long custom id can't bloat the window."""
import hashlib
from collections import deque

WINDOW = 100
_order = deque()
_seen = set()


def _digest(message_id):
    return hashlib.sha256(message_id.encode("utf-8")).digest()[:16]


def seen_before(message_id):
    """True when message_id was already processed; otherwise records it."""
    key = _digest(message_id)
    if key in _seen:
        return True
    _seen.add(key)
    _order.append(key)
    while len(_order) > WINDOW:
        _seen.discard(_order.popleft())
    return False


def size():
    return len(_order)
