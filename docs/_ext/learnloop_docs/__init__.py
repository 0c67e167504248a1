"""Sphinx extension for the learnloop site: pages generated from the code, and code that runs during the build.

The package imports Sphinx only in ``setup``, so the tests can read pages (``blocks``) and the list of public names
(``api``) without it.
"""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2]


def _generate(app) -> None:
    from learnloop_docs import api, cli_pages, differs, http_api, references

    references.ALIASES.update(api.public_objects())
    api.write_pages(DOCS / "reference" / "api")
    cli_pages.write_pages(DOCS / "reference" / "cli")
    http_api.write_page(DOCS / "reference" / "http-api.md", DOCS / "reference" / "openapi.json")
    differs.load()


def setup(app):
    from learnloop_docs import differs, execute, raises, references

    references.keep_prose_attribute_lines()
    app.connect("builder-inited", execute.use_build_folder)
    app.connect("builder-inited", execute.run_pages_ahead)     # the pages' code runs while the rest is generated
    app.connect("builder-inited", _generate)
    app.connect("build-finished", execute.stop_pages_ahead)
    app.connect("missing-reference", references.missing_reference)
    app.connect("autodoc-process-bases", references.drop_private_bases)
    app.connect("autodoc-skip-member", references.skip_foreign_members)
    app.connect("autodoc-process-docstring", references.drop_type_docstrings)
    app.connect("autodoc-process-docstring", raises.add_raises)
    app.connect("autodoc-process-docstring", differs.add_note)
    app.connect("source-read", execute.source_read)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
