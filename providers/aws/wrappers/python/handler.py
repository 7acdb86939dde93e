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
import os
import resource
import tempfile
import time
import traceback
import uuid

# The benchmark module, imported lazily inside the timed region (as SeBS does).
_function_module = None


def _epoch_micros():
    return time.time_ns() // 1000


def _container_state():
    marker = os.path.join(tempfile.gettempdir(), "cold_run")
    try:
        with open(marker, "r") as f:
            container_id = f.read().strip()
        if container_id:
            return False, container_id
    except FileNotFoundError:
        pass
    container_id = uuid.uuid4().hex[:8]
    with open(marker, "w") as f:
        f.write(container_id)
    return True, container_id


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


def _run(event, request_id):
    global _function_module
    income_timestamp = time.time()
    # SeBS's wrappers add these two fields; 030.clock-synchronization reads them.
    if isinstance(event, dict):
        event["request-id"] = request_id
        event["income-timestamp"] = income_timestamp

    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    begin = _epoch_micros()
    start = time.perf_counter_ns()
    result = None
    measurement = None
    error = None
    try:
        if _function_module is None:
            _function_module = importlib.import_module("function.function")
        fn = getattr(_function_module, "handler", None)
        if not callable(fn):
            raise TypeError("function/function.py does not define a handler(event) function")
        ret = fn(event)
        # SeBS handlers return {result, measurement?}; anything else is taken as the result itself.
        if isinstance(ret, dict) and "result" in ret:
            result = ret["result"]
            if isinstance(ret.get("measurement"), dict):
                measurement = ret["measurement"]
        else:
            result = ret
    except Exception as exc:  # noqa: BLE001 - every benchmark failure is reported, not raised
        error = {"type": type(exc).__name__, "message": str(exc), "trace": traceback.format_exc()}
        result = None
        measurement = None
    compute_time_us = (time.perf_counter_ns() - start) // 1000
    end = _epoch_micros()
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    is_cold, container_id = _container_state()

    envelope = {
        "begin": begin,
        "end": end,
        "computeTimeUs": compute_time_us,
        "isCold": is_cold,
        "containerId": container_id,
        "requestId": request_id,
        "result": result,
        # Linux reports ru_maxrss in KiB.
        "rssPeakKb": usage_after.ru_maxrss,
        "cpuUserUs": round((usage_after.ru_utime - usage_before.ru_utime) * 1e6),
        "cpuSystemUs": round((usage_after.ru_stime - usage_before.ru_stime) * 1e6),
    }
    if measurement is not None:
        envelope["measurement"] = measurement
    if error is not None:
        envelope["error"] = error
    return envelope


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
