"""Other libraries' names over learnloop, so code written for them runs unchanged (``compat.tensorflow``).

The engine never imports these modules: they sit on top of the public API, and load on first use.
"""


def __getattr__(name: str):
    if name == "tensorflow":
        import importlib

        return importlib.import_module("learnloop.compat.tensorflow")
    raise AttributeError(f"module 'learnloop.compat' has no attribute {name!r}")


def __dir__() -> list[str]:
    return ["tensorflow"]
