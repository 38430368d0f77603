"""VULNERABLE on purpose: memory that grows with every warm invocation.

Seed 000 (cold-start security article, "Memory Retention Between
Invocations") and seed 001 ("In-memory data": global variables persist
across invocations): every document is appended to a module-level list and
never released, so the environment's memory grows until Lambda kills it at
the function's memory size (Runtime.OutOfMemory), and every earlier caller's
document stays readable in the meantime.

Event:    {"user_id": str, "document": str}   (documents of about 256 KB)
Response: {"ok": true, "kept": number of documents held}
"""
history = []


def handler(event, context):
    # encode() makes a new object: the list holds its own copy, not a
    # reference that the runtime could be sharing.
    history.append(str(event["document"]).encode("utf-8"))
    return {"ok": True, "kept": len(history)}
