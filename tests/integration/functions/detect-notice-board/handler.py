"""detect-notice-board: the detection tests' stored text (issue 12).

A team notice board: the last notice anyone posted is kept in module state
and shown to everyone after. One caller's text reaches the next caller (a
leak of stored data between users), but nothing a caller sends is ever run:
an injection payload posted here comes back as text, not executed.
"""
_BOARD = {"notice": None, "by": None}


def handler(event, context):
    notice = event.get("notice")
    shown = dict(_BOARD)
    if notice:
        _BOARD["notice"] = str(notice)[:4096]
        _BOARD["by"] = "a team member"
    return {"user": event.get("user_id"), "last_notice": shown["notice"], "posted_by": shown["by"]}
