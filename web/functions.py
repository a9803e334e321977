"""Your own functions: this file is loaded by the page's worker before the executor starts.

`registry` (the executor's FunctionRegistry), `number` and `FunctionError` are already defined.
A returned list is many output items, None is none; raising FunctionError fails the process with
your message. Rebuild with `python build.py build` after editing.
"""


@registry.register(description="Reverse a text")  # noqa: F821 - provided by the worker
def reverse(text):
    return str(text)[::-1]


@registry.register(description="The browser's clock, as ISO 8601")  # noqa: F821
def now():
    import js

    return str(js.Date.new().toISOString())


@registry.register(description="Mean of some numbers")  # noqa: F821
def mean(*values):
    if not values:
        raise FunctionError("mean: give at least one number")  # noqa: F821
    return sum(number(v, "mean: argument") for v in values) / len(values)  # noqa: F821
