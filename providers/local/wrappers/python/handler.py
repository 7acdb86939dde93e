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

# A deliberate offset of this instance's clock (µs), for validating the
# harness's clock synchronisation on loopback, where both clocks are the same.
try:
    _CLOCK_SKEW_US = int(float(os.environ.get("SEBS_CLOCK_SKEW_US") or 0))
except ValueError:
    _CLOCK_SKEW_US = 0
# Extra per-invocation counters (/proc/self/io, peak RSS of the invocation);
# rusage counters are always taken.
_COLLECT_COUNTERS = os.environ.get("SEBS_COLLECT_COUNTERS") == "1"

_RUSAGE_COUNTERS = (
    ("page-faults-minor", "ru_minflt"),
    ("page-faults-major", "ru_majflt"),
    ("context-switches-voluntary", "ru_nvcsw"),
    ("context-switches-involuntary", "ru_nivcsw"),
    ("fs-read-ops", "ru_inblock"),
    ("fs-write-ops", "ru_oublock"),
)
_IO_COUNTERS = (
    ("io-read-chars", "rchar"),
    ("io-write-chars", "wchar"),
    ("io-read-syscalls", "syscr"),
    ("io-write-syscalls", "syscw"),
    ("io-read-bytes", "read_bytes"),
    ("io-write-bytes", "write_bytes"),
)


def _epoch_micros():
    return time.time_ns() // 1000 + _CLOCK_SKEW_US


def _read_proc_io():
    try:
        out = {}
        with open("/proc/self/io", "r") as f:
            for line in f:
                key, _, value = line.partition(":")
                if value.strip().isdigit():
                    out[key.strip()] = int(value)
        return out
    except OSError:
        return None


def _reset_peak_rss():
    # Writing 5 to clear_refs resets VmHWM: the next read is this invocation's peak.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _read_vm_hwm_kb():
    try:
        with open("/proc/self/status", "r") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


# The instance's container id once the marker exists. One process is one
# instance here, so later calls need not read the marker file again (a file
# read per invocation is a measurable share of a no-op's warm round trip).
_container_id = None


def _container_state():
    global _container_id
    if _container_id is not None:
        return False, _container_id
    marker = os.path.join(tempfile.gettempdir(), "cold_run")
    try:
        with open(marker, "r") as f:
            container_id = f.read().strip()
        if container_id:
            _container_id = container_id
            return False, container_id
    except FileNotFoundError:
        pass
    container_id = uuid.uuid4().hex[:8]
    with open(marker, "w") as f:
        f.write(container_id)
    _container_id = container_id
    return True, container_id


def handle(event, request_id):
    """Invokes the benchmark once. Never raises for a failing handler: an
    exception becomes an envelope with ``error`` and ``result: None``.
    SystemExit/KeyboardInterrupt are not caught: a function that exits ends
    its instance, as on a real platform."""
    global _function_module
    income_timestamp = time.time() + _CLOCK_SKEW_US / 1e6
    # SeBS's Python wrappers add these two fields; 030.clock-synchronization reads them.
    if isinstance(event, dict):
        event["request-id"] = request_id
        event["income-timestamp"] = income_timestamp

    io_before = _read_proc_io() if _COLLECT_COUNTERS else None
    peak_reset = _reset_peak_rss() if _COLLECT_COUNTERS else False
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    begin = _epoch_micros()
    start = time.perf_counter_ns()
    result = None
    measurement = None
    error = None
    import_time_us = 0
    try:
        if _function_module is None:
            import_start = time.perf_counter_ns()
            _function_module = importlib.import_module("function.function")
            import_time_us = (time.perf_counter_ns() - import_start) // 1000
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
    io_after = _read_proc_io() if io_before is not None else None
    peak_kb = _read_vm_hwm_kb() if peak_reset else None
    is_cold, container_id = _container_state()

    counters = {}
    for name, key in _RUSAGE_COUNTERS:
        counters[name] = {"value": getattr(usage_after, key) - getattr(usage_before, key), "source": "rusage"}
    if io_before is not None and io_after is not None:
        for name, key in _IO_COUNTERS:
            if key in io_before and key in io_after:
                counters[name] = {"value": io_after[key] - io_before[key], "source": "procfs"}
    if peak_kb is not None:
        counters["rss-peak-invocation-kb"] = {"value": peak_kb, "source": "procfs"}

    envelope = {
        "begin": begin,
        "end": end,
        "computeTimeUs": compute_time_us,
        "isCold": is_cold,
        "containerId": container_id,
        "requestId": request_id,
        "result": result,
        # KiB on Linux; inflated there by the spawning process's RSS (carried
        # over fork and exec): the local provider replaces it with the
        # instance's VmHWM, read from outside after the client's timing.
        "rssPeakKb": usage_after.ru_maxrss,
        "cpuUserUs": round((usage_after.ru_utime - usage_before.ru_utime) * 1e6),
        "cpuSystemUs": round((usage_after.ru_stime - usage_before.ru_stime) * 1e6),
        "importTimeUs": import_time_us,
        "counters": counters,
    }
    # What the local provider applied (limits.ts): records say whether the memory was enforced.
    if "SEBS_MEMORY_ENFORCED" in os.environ:
        envelope["memoryEnforced"] = os.environ["SEBS_MEMORY_ENFORCED"] == "1"
        envelope["memoryLimitMb"] = float(os.environ.get("SEBS_MEMORY_LIMIT_MB") or 0)
        envelope["memoryLimitMechanism"] = os.environ.get("SEBS_MEMORY_LIMIT_MECHANISM")
    if measurement is not None:
        envelope["measurement"] = measurement
    if error is not None:
        envelope["error"] = error
    return envelope
