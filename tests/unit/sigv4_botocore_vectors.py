#!/usr/bin/env python3
"""Writes SigV4 test vectors for Lambda requests, signed by botocore.

tests/unit/test_sigv4.c signs every vector again with src/sigv4.c and
compares the Authorization header byte for byte (DESIGN.md, decision 2: our
signer must agree with botocore on paths holding names, ARNs and qualifiers).

Each request is built by a real botocore Lambda client, so path encoding,
query and headers are exactly what boto3 puts on the wire; the request is
captured in `before-send` and never leaves the process. It is then signed
a second time by botocore.auth.SigV4Auth directly, and both signatures must
agree. The Date-header vectors come from SigV4Auth alone, since the client
always dates with X-Amz-Date. The clock is pinned so everything signed is
deterministic (User-Agent and amz-sdk-invocation-id, sent unsigned, vary).

Usage: sigv4_botocore_vectors.py OUT.json
Output: a JSON list of {name, method, path, query, headers, unsigned_headers,
body, region, service, access_key_id, secret_access_key, session_token,
amz_date, dated_by, canonical_request, authorization}; `path` and `query`
are as on the wire, `headers` are the ones botocore signed (plus Host, which
the HTTP client adds), `unsigned_headers` the other ones it sends, `dated_by`
names the header that carries the signing time (X-Amz-Date, or Date).
"""
import datetime
import json
import sys
from unittest import mock
from urllib.parse import urlsplit

import botocore.auth
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REGION = "us-east-1"
SERVICE = "lambda"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+"
         "example/session+token==")
NOW = datetime.datetime(2024, 1, 2, 3, 4, 5)  # botocore uses naive UTC
ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
PAYLOAD = b'{"user":"alice","canary":"c0ld5ec"}'


class Captured(Exception):
    """Raised from before-send so the request never reaches the network."""

    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def capture(request, **_):
    raise Captured(request)


def text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


CASES = [
    ("invoke-name", "invoke", dict(FunctionName="my-fn", Payload=PAYLOAD)),
    ("invoke-full-arn", "invoke", dict(FunctionName=ARN, Payload=PAYLOAD)),
    ("invoke-partial-arn", "invoke",
     dict(FunctionName="123456789012:function:my-fn", Payload=PAYLOAD)),
    ("invoke-alias", "invoke", dict(FunctionName="my-fn:prod", Payload=PAYLOAD)),
    ("invoke-arn-alias", "invoke",
     dict(FunctionName=ARN + ":prod", Payload=PAYLOAD)),
    ("invoke-qualifier-latest", "invoke",
     dict(FunctionName="my-fn", Qualifier="$LATEST", Payload=PAYLOAD)),
    ("invoke-arn-qualifier-version", "invoke",
     dict(FunctionName=ARN, Qualifier="7", Payload=PAYLOAD)),
    ("invoke-tail-event-empty", "invoke",
     dict(FunctionName="my-fn", InvocationType="Event", LogType="Tail")),
    ("get-configuration-name", "get_function_configuration",
     dict(FunctionName="my-fn")),
    ("get-configuration-arn-qualifier", "get_function_configuration",
     dict(FunctionName=ARN, Qualifier="$LATEST")),
    ("put-configuration-json", "update_function_configuration",
     dict(FunctionName=ARN,
          Environment={"Variables": {"COLDSEC_NONCE": "n-1234",
                                     "GREETING": "hello world/+=:"}},
          RevisionId="0f1e2d3c-aaaa-bbbb-cccc-000000000001")),
]


def build(name, op, params, token):
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token)
    session = botocore.session.get_session()
    client = session.create_client(
        SERVICE, region_name=REGION,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        config=Config(retries={"total_max_attempts": 1}))
    client.meta.events.register("before-send.*", capture)
    try:
        getattr(client, op)(**params)
    except Captured as c:
        wire = c.request
    else:
        raise SystemExit(f"{name}: request was not captured")

    body = wire.body or b""
    if not isinstance(body, bytes):
        body = body.encode("utf-8")
    authorization = text(wire.headers["Authorization"])
    signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")

    headers, unsigned, resign = [], [], {}
    host = botocore.auth._host_from_url(wire.url)
    headers.append(["Host", host])
    for k, v in wire.headers.items():
        if k.lower() == "authorization":
            continue
        (headers if k.lower() in signed_names else unsigned).append([k, text(v)])
        if k.lower() in signed_names and k.lower() not in (
                "x-amz-date", "x-amz-security-token"):
            resign[k] = text(v)

    # Sign once more with SigV4Auth itself: the vector is botocore's SigV4.
    req = AWSRequest(method=wire.method, url=wire.url, headers=resign, data=body)
    signer = botocore.auth.SigV4Auth(creds, SERVICE, REGION)
    signer.add_auth(req)
    if req.headers["Authorization"] != authorization:
        raise SystemExit(f"{name}: client and SigV4Auth disagree")
    return record(name, token, signer, req, authorization, headers, unsigned,
                  "X-Amz-Date")


def build_date_header(token):
    """GetFunctionConfiguration dated by a Date header: SigV4Auth signs with
    Date instead of X-Amz-Date when the request has one, and AWS accepts it."""
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token)
    url = f"https://lambda.{REGION}.amazonaws.com/2015-03-31/functions/my-fn/configuration"
    req = AWSRequest(method="GET", url=url, headers={"Date": "replaced by SigV4Auth"})
    signer = botocore.auth.SigV4Auth(creds, SERVICE, REGION)
    signer.add_auth(req)
    authorization = req.headers["Authorization"]
    headers = [["Host", botocore.auth._host_from_url(url)]]
    headers += [[k, text(v)] for k, v in req.headers.items() if k != "Authorization"]
    return record("get-configuration-date-header", token, signer, req,
                  authorization, headers, [], "Date")


def record(name, token, signer, req, authorization, headers, unsigned, dated_by):
    # The canonical request that was signed: without the Authorization header
    # add_auth added; checked by recomputing the signature from it.
    del req.headers["Authorization"]
    canonical = signer.canonical_request(req)
    signature = signer.signature(signer.string_to_sign(req, canonical), req)
    if not authorization.endswith("Signature=" + signature):
        raise SystemExit(f"{name}: canonical request does not give the signature")
    url = urlsplit(req.url)
    body = req.body or b""
    if not isinstance(body, bytes):
        body = body.encode("utf-8")
    body_text = body.decode("utf-8")
    if "\0" in body_text:
        raise SystemExit(f"{name}: body holds NUL, not representable")
    return {
        "name": name + ("-token" if token else ""),
        "method": req.method,
        "path": url.path,
        "query": url.query,
        "headers": headers,
        "unsigned_headers": unsigned,
        "body": body_text,
        "region": REGION,
        "service": SERVICE,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "session_token": token,
        "amz_date": NOW.strftime("%Y%m%dT%H%M%SZ"),
        "dated_by": dated_by,
        "canonical_request": canonical,
        "authorization": authorization,
    }


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: sigv4_botocore_vectors.py OUT.json")
    vectors = []
    with mock.patch.object(botocore.auth, "get_current_datetime",
                           return_value=NOW):
        for token in (None, TOKEN):
            for name, op, params in CASES:
                vectors.append(build(name, op, params, token))
            vectors.append(build_date_header(token))
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(vectors, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
