"""001.noop (npm run perf): answers at once, so a sample is the harness's own time."""


def handler(event):
    return {"result": {"n": event.get("n")}}
