"""VULNERABLE on purpose: the weaknesses are in the configuration, not here.

Seed 003 ("Serverless Function Security"): environment variables must be
encrypted with KMS, concurrency limited, and an API Gateway function's
timeout kept within API Gateway's 29 s. This function's entry in
functions.yaml breaks each rule: a deprecated runtime (python3.8), a 60 s
timeout, plain-text secrets in its variables (DB_PASSWORD and an AWS access
key id, AWS's documented example), no kms_key_arn and no reserved
concurrency. coldsec reads all of it through GetFunctionConfiguration.

Event:    an API Gateway HTTP API (v2) event
Response: {"statusCode": 200, "body": "{\\"ok\\": true}"}
"""
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
