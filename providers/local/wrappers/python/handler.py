"""Local provider wrapper (Python): runs the benchmark's handler(event) and
returns the common envelope (DESIGN.md "Wrapper envelope").

Python 3 standard library only: it is copied to the package root and runs
inside the function instance.

Cold detection follows SeBS: the first invocation in an instance finds no
``cold_run`` marker in the instance's temp directory, creates one holding a
fresh container id and reports ``isCold: True``; later invocations read the id
back. The provider gives every instance its own TMPDIR.
"""
import importlib
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


def handle(event, request_id):
    """Invokes the benchmark once. Never raises for a failing handler: an
    exception becomes an envelope with ``error`` and ``result: None``.
    SystemExit/KeyboardInterrupt are not caught: a function that exits ends
    its instance, as on a real platform."""
    global _function_module
    income_timestamp = time.time()
    # SeBS's Python wrappers add these two fields; 030.clock-synchronization reads them.
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
        handler = getattr(_function_module, "handler", None)
        if not callable(handler):
            raise TypeError("function/function.py does not define a handler(event) function")
        ret = handler(event)
        # SeBS handlers return {result, measurement?}; anything else is taken as the result itself.
        if isinstance(ret, dict) and "result" in ret:
            result = ret["result"]
            if isinstance(ret.get("measurement"), dict):
                measurement = ret["measurement"]
        else:
            result = ret
    except Exception as exc:  # noqa: BLE001 - every handler failure is reported, not raised
        error = {
            "type": type(exc).__name__,
            "message": str(exc),
            "trace": traceback.format_exc(),
        }
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
