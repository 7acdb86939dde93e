"""110.dynamic-html: renders an HTML page with a jinja2 template: a greeting,
the current time and a list of random_len random numbers."""
import os
import random
from datetime import datetime

from jinja2 import Template

# The template sits beside this module in the package, wherever that lands.
_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates", "template.html")

#: Numbers are drawn without repetition from [0, NUMBER_RANGE), as in SeBS.
NUMBER_RANGE = 1_000_000


def handler(event):
    username = event.get("username")
    size = event.get("random_len")
    if not isinstance(username, str):
        raise ValueError("event.username must be a string, got %r" % (username,))
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= NUMBER_RANGE:
        raise ValueError("event.random_len must be an integer in [0, %d], got %r" % (NUMBER_RANGE, size))
    cur_time = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    random_numbers = random.sample(range(0, NUMBER_RANGE), size)
    # Read and compiled on every call, as SeBS does: that is part of the work
    # measured. Autoescaping matches mustache's {{ }} (the username is input).
    with open(_TEMPLATE, encoding="utf-8") as template_file:
        template = Template(template_file.read(), autoescape=True)
    html = template.render(username=username, cur_time=cur_time, random_numbers=random_numbers)
    return {"result": html}
