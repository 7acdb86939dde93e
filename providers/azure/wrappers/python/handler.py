"""Azure Functions wrapper (Python, v1 programming model with function.json):
``main(req, context)`` runs the benchmark's ``handler(event)`` and answers
with the common envelope (DESIGN.md "Wrapper envelope") as JSON.

It sits in the function's folder (``function/``) next to the benchmark's
``function.py``, with ``scriptFile: handler.py`` in function.json; the Python
worker imports it as ``__app__.function.handler``, so the benchmark module is
the sibling ``.function`` and its own ``from . import storage`` keeps working.
``azure.functions`` is provided by the platform's Python worker, not packaged.

- The request body is the event (JSON). ``requestId`` is the invocation id,
  which Application Insights records as ``customDimensions.InvocationId``.
- Cold detection follows SeBS: the first invocation in an instance finds no
  ``cold_run`` marker in /tmp (tempfile.gettempdir()), writes one holding a
  fresh container id and reports ``isCold: true``; later invocations read the
  id back. ``isColdWorker`` (SeBS's ``is_cold_worker``) is true on the first
  invocation in this worker process.
- A failing benchmark is reported in the envelope's ``error`` with HTTP 200;
  non-200 answers therefore come from the platform (timeouts, crashes).
- A request with the ``x-sebs-probe`` header is answered without running the
  benchmark or touching the marker: the harness uses it to see that a
  restarted app serves with new settings (``coldStartCounter``).
"""
import importlib
import json
import os
import resource
import tempfile
import time
import traceback
import uuid

import azure.functions as func

# The benchmark module, imported lazily inside the timed region (as SeBS does).
_function_module = None
# SeBS's is_cold_worker: true until this worker process served one invocation.
_cold_worker = True
_worker_id = uuid.uuid4().hex[:8]


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


def _json_response(body, status=200):
    return func.HttpResponse(body=json.dumps(body), status_code=status, mimetype="application/json")


def _run(event, request_id):
    global _function_module, _cold_worker
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
            _function_module = importlib.import_module(".function", __package__)
        fn = getattr(_function_module, "handler", None)
        if not callable(fn):
            raise TypeError("function.py does not define a handler(event) function")
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
    is_cold_worker = _cold_worker
    _cold_worker = False

    envelope = {
        "begin": begin,
        "end": end,
        "computeTimeUs": compute_time_us,
        "isCold": is_cold,
        "isColdWorker": is_cold_worker,
        "containerId": container_id,
        "requestId": request_id,
        "result": result,
        # Linux reports ru_maxrss in KiB.
        "rssPeakKb": usage_after.ru_maxrss,
        "cpuUserUs": round((usage_after.ru_utime - usage_before.ru_utime) * 1e6),
        "cpuSystemUs": round((usage_after.ru_stime - usage_before.ru_stime) * 1e6),
    }
    # SeBS's environ_container_id: the platform's name for the instance, when it sets one.
    platform_id = os.environ.get("CONTAINER_NAME") or os.environ.get("WEBSITE_INSTANCE_ID")
    if platform_id:
        envelope["environContainerId"] = platform_id
    if measurement is not None:
        envelope["measurement"] = measurement
    if error is not None:
        envelope["error"] = error
    return envelope


def _probe():
    marker = os.path.join(tempfile.gettempdir(), "cold_run")
    return {
        "probe": True,
        "coldStartCounter": os.environ.get("SEBS_COLD_START"),
        "workerId": _worker_id,
        "markerExists": os.path.exists(marker),
    }


def main(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    """The Azure Functions entry point (``entryPoint`` defaults to ``main``)."""
    if req.headers.get("x-sebs-probe"):
        return _json_response(_probe())
    request_id = getattr(context, "invocation_id", None) or str(uuid.uuid4())
    body = req.get_body() or b""
    try:
        payload = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        return _json_response({"error": {"type": "BadRequest", "message": f"request body is not JSON: {exc}"}}, 400)
    return _json_response(_run(payload, request_id))
