"""A tiny routeKey router for HTTP API (payload format 2.0) events."""
import json
import time


class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(status, payload, headers=None):
    base = {"content-type": "application/json"}
    base.update(headers or {})
    return {"statusCode": status, "headers": base, "body": json.dumps(payload)}


class Router:
    def __init__(self):
        self._routes = {}
        self._cache = {}

    def route(self, route_key, cache_seconds=0):
        def register(fn):
            self._routes[route_key] = (fn, cache_seconds)
            return fn
        return register

    def dispatch(self, event, context):
        route_key = event.get("routeKey") or ""
        entry = self._routes.get(route_key)
        if entry is None:
            return json_response(404, {"message": "Not Found"})
        fn, cache_seconds = entry

        if cache_seconds:
            hit = self._cache.get(route_key)
            if hit and hit[0] > time.time():
                return hit[1]
        try:
            response = fn(event)
        except HttpError as err:
            return json_response(err.status, {"message": err.message})
        if cache_seconds and response.get("statusCode") == 200:
            self._cache[route_key] = (time.time() + cache_seconds, response)
        return response
