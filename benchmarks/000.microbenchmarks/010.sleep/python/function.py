"""010.sleep: sleeps for event['sleep'] seconds and returns that number."""
import time


def handler(event):
    sleep = event.get("sleep")
    if isinstance(sleep, bool) or not isinstance(sleep, (int, float)) or sleep < 0:
        raise ValueError("event.sleep must be a non-negative number of seconds, got %r" % (sleep,))
    time.sleep(sleep)
    return {"result": sleep}
