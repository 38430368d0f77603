"""Account service: /me, /me/preferences and the public plan list, behind an HTTP API with a JWT authorizer."""
import base64
import json

from router import HttpError, Router, json_response

app = Router()

PLANS = [
    {"id": "free", "seats": 1, "price_usd": 0},
    {"id": "team", "seats": 10, "price_usd": 49},
    {"id": "business", "seats": 50, "price_usd": 199},
]


def claims_of(event):
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or {}
    if not claims.get("sub"):
        raise HttpError(401, "Unauthorized")
    return claims


def body_of(event):
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        body = json.loads(raw)
    except ValueError:
        raise HttpError(400, "body must be JSON")
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object")
    return body


@app.route("GET /plans", cache_seconds=300)
def list_plans(event):
    return json_response(200, {"plans": PLANS}, {"cache-control": "public, max-age=300"})


# /me is hit on every page load by the SPA; keep it for a minute.
@app.route("GET /me", cache_seconds=60)
def get_me(event):
    claims = claims_of(event)
    return json_response(200, {
        "id": claims["sub"],
        "email": claims.get("email"),
        "name": claims.get("name"),
        "org": claims.get("custom:org"),
        "groups": claims.get("cognito:groups", "").split(",") if claims.get("cognito:groups") else [],
        "plan": claims.get("custom:plan", "free"),
    })


@app.route("PATCH /me/preferences")
def update_preferences(event):
    claims = claims_of(event)
    body = body_of(event)
    allowed = {"theme", "timezone", "weekly_summary"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise HttpError(422, "unknown preference: " + ", ".join(unknown))
    return json_response(200, {"id": claims["sub"], "preferences": body, "saved": True})


def handler(event, context):
    return app.dispatch(event, context)
