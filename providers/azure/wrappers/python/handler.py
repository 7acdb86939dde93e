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
import uuid

import azure.functions as func

# The wrapper core, copied beside this file by the packager (providers/packaging/wrapper-core).
from . import sebs_core

_worker_id = sebs_core.short_id()


def _platform_id(state, usage_before, usage_after, import_time_us):
    # SeBS's environ_container_id: the platform's name for the instance, when it sets one.
    platform_id = os.environ.get("CONTAINER_NAME") or os.environ.get("WEBSITE_INSTANCE_ID")
    return {"environContainerId": platform_id} if platform_id else {}


# Runs the benchmark once and builds the envelope.
_run = sebs_core.make_invoker(
    lambda: importlib.import_module(".function", __package__), "function.py", cold_worker=True, extra_fields=_platform_id
)


def _json_response(body, status=200):
    return func.HttpResponse(body=json.dumps(body), status_code=status, mimetype="application/json")


def _probe():
    marker = sebs_core.marker_path()
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
