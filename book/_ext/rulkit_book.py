"""Local Sphinx fixes for the rulkit book, loaded through ``sphinx.local_extensions``
in ``_config.yml``.

Inline scripts (``app.add_js_file(None, body=...)``) registered by extensions
after the builder starts end up twice in every page under Sphinx 7.4: once with
the file name ``None`` and once with ``''``, which Sphinx does not recognise as
the same asset. sphinx-thebe's inline script declares ``const THEBE_JS_URL``,
so the second copy is a JavaScript SyntaxError on every page. This extension
drops such duplicates from each page's script list before it is rendered.
"""

from __future__ import annotations


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (
        getattr(script, "filename", script) or "",
        getattr(script, "priority", None),
        tuple(sorted((str(k), str(v)) for k, v in attributes.items())),
    )


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
