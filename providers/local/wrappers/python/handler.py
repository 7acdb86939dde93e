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

# The wrapper core, copied beside this file by the packager (providers/packaging/wrapper-core).
import sebs_core

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


def _before_timing():
    """Counters taken before the timed region (see ``_extra_fields``)."""
    io_before = _read_proc_io() if _COLLECT_COUNTERS else None
    peak_reset = _reset_peak_rss() if _COLLECT_COUNTERS else False
    return io_before, peak_reset


def _extra_fields(state, usage_before, usage_after, import_time_us):
    """The local provider's additions to the envelope: import time, counters, the memory limit applied."""
    io_before, peak_reset = state
    io_after = _read_proc_io() if io_before is not None else None
    peak_kb = _read_vm_hwm_kb() if peak_reset else None
    counters = {}
    for name, key in _RUSAGE_COUNTERS:
        counters[name] = {"value": getattr(usage_after, key) - getattr(usage_before, key), "source": "rusage"}
    if io_before is not None and io_after is not None:
        for name, key in _IO_COUNTERS:
            if key in io_before and key in io_after:
                counters[name] = {"value": io_after[key] - io_before[key], "source": "procfs"}
    if peak_kb is not None:
        counters["rss-peak-invocation-kb"] = {"value": peak_kb, "source": "procfs"}
    # rssPeakKb is inflated on Linux by the spawning process's RSS (carried
    # over fork and exec): the local provider replaces it with the instance's
    # VmHWM, read from outside after the client's timing.
    fields = {"importTimeUs": import_time_us, "counters": counters}
    # What the local provider applied (limits.ts): records say whether the memory was enforced.
    if "SEBS_MEMORY_ENFORCED" in os.environ:
        fields["memoryEnforced"] = os.environ["SEBS_MEMORY_ENFORCED"] == "1"
        fields["memoryLimitMb"] = float(os.environ.get("SEBS_MEMORY_LIMIT_MB") or 0)
        fields["memoryLimitMechanism"] = os.environ.get("SEBS_MEMORY_LIMIT_MECHANISM")
    return fields


# Invokes the benchmark once (``handle(event, request_id)``). Never raises for
# a failing handler: an exception becomes an envelope with ``error`` and
# ``result: None``. SystemExit/KeyboardInterrupt are not caught: a function
# that exits ends its instance, as on a real platform. One process is one
# instance here, so the container id is remembered.
handle = sebs_core.make_invoker(
    lambda: importlib.import_module("function.function"),
    "function/function.py",
    clock_skew_us=_CLOCK_SKEW_US,
    remember_container=True,
    before_timing=_before_timing,
    extra_fields=_extra_fields,
)
