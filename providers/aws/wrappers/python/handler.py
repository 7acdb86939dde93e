"""AWS Lambda wrapper (Python), Lambda handler ``handler.handler``: runs the
benchmark's ``handler(event)`` and returns the common envelope (DESIGN.md
"Wrapper envelope").

Standard library only: it sits at the zip root beside the benchmark's
``function/`` package (and the pip-installed dependencies) and runs inside
the Lambda sandbox.

- SDK invocations (``InvokeCommand``) get the envelope itself; Function URL and
  API Gateway events (which carry the request in ``body``) get
  ``{"statusCode": 200, "headers": ..., "body": JSON}``, as SeBS's AWS wrapper does.
- Cold detection follows SeBS: the first invocation in an execution
  environment finds no ``cold_run`` marker in /tmp (tempfile.gettempdir()),
  writes one holding a fresh container id and reports ``isCold: True``; later
  invocations of the same environment read the id back.
"""
import base64
import importlib
import json
import uuid

# The wrapper core, copied beside this file by the packager (providers/packaging/wrapper-core).
import sebs_core

# Runs the benchmark once and builds the envelope.
_run = sebs_core.make_invoker(lambda: importlib.import_module("function.function"), "function/function.py")


def _is_http_event(event):
    if not isinstance(event, dict):
        return False
    if isinstance(event.get("body"), str):
        return True
    context = event.get("requestContext")
    return isinstance(context, dict) and "http" in context


def _http_payload(event):
    body = event.get("body")
    if not isinstance(body, str) or body == "":
        return {}
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return json.loads(body)


def handler(event, context):
    """The Lambda entry point."""
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    if not _is_http_event(event):
        return _run(event, request_id)
    try:
        payload = _http_payload(event)
    except (ValueError, UnicodeDecodeError) as exc:
        return {
            "statusCode": 400,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"error": {"type": "BadRequest", "message": f"request body is not JSON: {exc}"}}),
        }
    envelope = _run(payload, request_id)
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(envelope)}
