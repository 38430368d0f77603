"""HARDENED twin of config-python-vulnerable: the practice is in the configuration.

Follows seed 003 ("Serverless Function Security"): variables encrypted with a
customer KMS key (kms_key_arn), no secret among them (DB_PASSWORD_PARAM only
names a Parameter Store entry, seed 000's "Lazy Loading Credentials"),
reserved concurrency 5 (a hard limit against exhaustion), a 10 s timeout
(within API Gateway's 29 s) and a supported runtime (python3.12).

Event:    an API Gateway HTTP API (v2) event
Response: {"statusCode": 200, "body": "{\\"ok\\": true}"}
"""
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
