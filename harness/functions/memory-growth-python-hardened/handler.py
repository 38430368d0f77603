"""HARDENED twin of memory-growth-python-vulnerable.

Follows seed 000's "Memory Cleanup" (user_data = None; gc.collect() in a
finally block) and seed 001 ("In-memory data": clear sensitive variables as
soon as they are no longer needed): the document is processed (its words are
counted) and nothing of it outlives the invocation.

Event:    {"user_id": str, "document": str}   (documents of about 256 KB)
Response: {"ok": true, "kept": 0, "words": number of words in the document}
"""
import gc
import re

WORD_RE = re.compile(r"\S+")
user_data = None


def handler(event, context):
    global user_data
    try:
        user_data = str(event["document"])
        # finditer, not split(): no list of every word is built.
        words = sum(1 for _ in WORD_RE.finditer(user_data))
        return {"ok": True, "kept": 0, "words": words}
    finally:
        user_data = None
        gc.collect()
