"""The wrapper core (Python), shared by every provider's handler: runs the
benchmark's ``handler(event)`` once and builds the common envelope (DESIGN.md
"Wrapper envelope"). Runs inside the function instance; the packagers copy
this file beside each provider's handler at build time (the package hash
covers it), and the handler keeps only its platform's trigger glue.

Standard library only.

Cold detection follows SeBS: the first invocation in an instance finds no
``cold_run`` marker in the temp directory (tempfile.gettempdir()), writes one
holding a fresh container id and reports ``isCold: True``; later invocations
read the id back.
"""
import os
import resource
import tempfile
import time
import traceback
import uuid


def marker_path():
    """Path of the cold-start marker in this instance's temp directory."""
    return os.path.join(tempfile.gettempdir(), "cold_run")


def short_id():
    """A fresh 8-hex-digit id (container and worker ids)."""
    return uuid.uuid4().hex[:8]


def make_invoker(load, function_file, clock_skew_us=0, remember_container=False, cold_worker=False,
                 before_timing=None, extra_fields=None):
    """Makes the invoker of one benchmark module.

    - ``load()`` imports the benchmark module (once, inside the timed region, as SeBS does);
    - ``function_file`` names it in the "does not define a handler" error;
    - ``clock_skew_us`` is a deliberate offset of the reported clock (µs);
    - ``remember_container`` keeps the container id in memory once known (one process is one instance);
    - ``cold_worker`` reports ``isColdWorker`` (SeBS's is_cold_worker), true on this process's first invocation;
    - ``before_timing()`` is called just before the timed region; its value goes to ``extra_fields``;
    - ``extra_fields(state, usage_before, usage_after, import_time_us)`` returns fields appended after ``cpuSystemUs``.

    Returns ``invoke(event, request_id)``, which never raises for a failing
    handler: an exception becomes an envelope with ``error`` and ``result:
    None``. SystemExit/KeyboardInterrupt are not caught: a function that exits
    ends its instance, as on a real platform.
    """
    cache = {"module": None, "container_id": None, "cold_worker": True}

    def epoch_micros():
        return time.time_ns() // 1000 + clock_skew_us

    def container_state():
        if cache["container_id"] is not None:
            return False, cache["container_id"]
        marker = marker_path()
        container_id = None
        is_cold = False
        try:
            with open(marker, "r") as f:
                container_id = f.read().strip() or None
        except FileNotFoundError:
            pass
        if container_id is None:
            container_id = short_id()
            with open(marker, "w") as f:
                f.write(container_id)
            is_cold = True
        # A file read per invocation is a measurable share of a no-op's warm round trip.
        if remember_container:
            cache["container_id"] = container_id
        return is_cold, container_id

    def invoke(event, request_id):
        income_timestamp = time.time() + clock_skew_us / 1e6
        # SeBS's wrappers add these two fields; 030.clock-synchronization reads them.
        if isinstance(event, dict):
            event["request-id"] = request_id
            event["income-timestamp"] = income_timestamp

        state = before_timing() if before_timing is not None else None
        usage_before = resource.getrusage(resource.RUSAGE_SELF)
        begin = epoch_micros()
        start = time.perf_counter_ns()
        result = None
        measurement = None
        error = None
        import_time_us = 0
        try:
            if cache["module"] is None:
                import_start = time.perf_counter_ns()
                cache["module"] = load()
                import_time_us = (time.perf_counter_ns() - import_start) // 1000
            fn = getattr(cache["module"], "handler", None)
            if not callable(fn):
                raise TypeError("%s does not define a handler(event) function" % function_file)
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
        end = epoch_micros()
        usage_after = resource.getrusage(resource.RUSAGE_SELF)
        is_cold, container_id = container_state()

        envelope = {"begin": begin, "end": end, "computeTimeUs": compute_time_us, "isCold": is_cold}
        if cold_worker:
            envelope["isColdWorker"] = cache["cold_worker"]
            cache["cold_worker"] = False
        envelope.update({
            "containerId": container_id,
            "requestId": request_id,
            "result": result,
            # Linux reports ru_maxrss in KiB.
            "rssPeakKb": usage_after.ru_maxrss,
            "cpuUserUs": round((usage_after.ru_utime - usage_before.ru_utime) * 1e6),
            "cpuSystemUs": round((usage_after.ru_stime - usage_before.ru_stime) * 1e6),
        })
        if extra_fields is not None:
            envelope.update(extra_fields(state, usage_before, usage_after, import_time_us))
        if measurement is not None:
            envelope["measurement"] = measurement
        if error is not None:
            envelope["error"] = error
        return envelope

    return invoke
