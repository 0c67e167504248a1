"""Sphinx configuration: the learnloop documentation site, built from the repository.

Build it with ``python docs/build.py`` (strict: every warning is an error). The pages are Markdown (MyST); the API
reference, the command-line pages, the HTTP API page and the Keras parity table are generated from the code at the
start of every build by ``docs/_ext/learnloop_docs``; the code blocks of the guides run during the build and their
output and figures go into the page.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import learnloop  # noqa: E402

project = "learnloop"
copyright = "learnloop contributors"
release = version = learnloop.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "learnloop_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "keras", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# ---- strictness: build.py passes -W --keep-going -n; these make the checks cover what they should --------------
nitpicky = True
# References to other projects cannot resolve offline (no intersphinx inventories are fetched); every learnloop
# name must resolve.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|pathlib|typing|collections|collections\.abc|datetime|argparse|sklearn|scipy|pyarrow|pandas"
               r"|fastapi|starlette|pydantic|onnx|onnxruntime|matplotlib|concurrent|threading|sqlite3|os|io|types|"
               r"enum|dataclasses|contextlib|functools|joblib|dask|polars|uvicorn|prometheus_client|tqdm|re)"
               r"(\..*)?"),
    (r"py:.*", r"(int|float|str|bytes|bool|dict|list|tuple|set|frozenset|object|type|None|callable|Callable|Any|"
               r"Iterable|Iterator|Sequence|Mapping|Generator|Literal|Path|PathLike|BaseException|Exception|"
               r"ValueError|TypeError|KeyError|IndexError|AttributeError|ImportError|RuntimeError|OSError|"
               r"NotImplementedError|array-like|array_like|optional|default|ndarray|np\.ndarray|Array|ArrayLike|"
               r"DTypeLike|Self|slice|range|memoryview|complex|ellipsis|NoneType)"),
    (r"py:.*", r"tf\..*"),                         # TensorFlow names in the compat layer's signatures
    (r"py:.*", r"tuple\[.*"),                      # Sphinx splits `tuple[X, ...]` annotations at the comma
]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
suppress_warnings: list[str] = []
smartquotes = False                 # `--flag` stays two hyphens

# ---- API reference -----------------------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Each public name has its own directive (docs/_ext/learnloop_docs/api.py), so modules are not walked for members;
# a class shows its bases when it has public ones.
autodoc_default_options: dict = {}
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# ---- the site: readable offline (no fonts or scripts from a CDN), with search ------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"learnloop {release}"
html_static_path = ["_static"]
html_css_files = ["learnloop.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "icon_links": [],
    "use_edit_page_button": False,
    "show_version_warning_banner": False,
}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
