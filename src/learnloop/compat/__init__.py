"""Other libraries' names over learnloop, so code written for them runs unchanged (``compat.tensorflow``).

The engine never imports these modules: they sit on top of the public API.
"""
