"""Resumable import state. The state travels in the SQS message so a job can be
picked up by any worker after a timeout or a redrive."""
import base64
import pickle

FRESH = {"offset": 0, "imported": 0, "skipped": 0, "errors": []}


def load(token):
    if not token:
        return dict(FRESH)
    state = pickle.loads(base64.b64decode(token))
    merged = dict(FRESH)
    merged.update(state)
    return merged


def dump(state):
    return base64.b64encode(pickle.dumps(state, protocol=4)).decode("ascii")
