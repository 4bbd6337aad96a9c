"""Local Sphinx fixes for the rulkit book, loaded through ``sphinx.local_extensions``
in ``_config.yml``.

1. Duplicate inline scripts. Inline scripts (``app.add_js_file(None, body=...)``)
   registered by extensions after the builder starts end up twice in every page under
   Sphinx 7.4: once with the file name ``None`` and once with ``''``, which Sphinx
   does not recognise as the same asset. sphinx-thebe's inline script declares
   ``const THEBE_JS_URL``, so the second copy is a JavaScript SyntaxError on every
   page. This extension drops such duplicates from each page's script list before it
   is rendered.

2. Vega offline. The interactive charts of ``rulkit.regimes`` (the regime chooser)
   are notebook outputs that load Vega, Vega-Lite and vega-embed from a CDN, as
   Altair's charts do in Jupyter and Colab. On every page that holds such a chart,
   this extension replaces the CDN list by one local file,
   ``_static/rulkit-vega/vega-bundle-<versions>.js``, which it writes once from
   ``vl-convert-python`` (a Python wheel that ships Vega; nothing is downloaded at
   build time), the way sphinx-mathjax-offline bundles MathJax. The rendered book
   then draws the charts with no network and no kernel.

3. Student copies on Colab. Each chapter page's launch menu gets a second Colab
   link, to the chapter's student copy (``notebooks/student/<chapter>.ipynb``,
   exercises blank, made by ``scripts/grading.py student``), next to the theme's
   link to the chapter itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sphinx.errors import ExtensionError

VEGALITE_VERSION = "6.4"  # keep in step with rulkit.regimes.VEGALITE_MAJOR_MINOR
STATIC_DIR = "rulkit-vega"
_LIBS_RE = re.compile(
    r'(<script type="application/json" class="rulkit-chooser-libs">)(.*?)(</script>)', re.S
)


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


def vega_bundle_name() -> str:
    """File name of the bundle: it changes whenever the bundled versions change."""
    try:
        import vl_convert
    except ImportError as err:
        raise ExtensionError(
            "a page of the book holds an interactive chart, and bundling its JavaScript "
            "needs vl-convert-python: pip install -e '.[book]'"
        ) from err
    versions = "-".join(
        [
            f"vega{vl_convert.get_vega_version()}",
            f"vl{VEGALITE_VERSION}",
            f"embed{vl_convert.get_vega_embed_version()}",
        ]
    )
    return f"vega-bundle-{versions}.js"


def use_local_vega(app, pagename, templatename, context, doctree) -> None:
    """Point every chart of the page at the bundled copy instead of the CDN."""
    body = context.get("body") or ""
    if "rulkit-chooser-libs" not in body:
        return
    local = context["pathto"](f"_static/{STATIC_DIR}/{vega_bundle_name()}", 1)
    libs = json.dumps([local])
    context["body"] = _LIBS_RE.sub(lambda m: m.group(1) + libs + m.group(3), body)


def write_vega_bundle(app, exception) -> None:
    """Write the bundle into _static once (it is reused while the versions stay the same).

    Without vl-convert-python nothing is written: a page with a chart has already
    stopped the build with an error in :func:`use_local_vega`.
    """
    if exception is not None or app.builder.format != "html":
        return
    try:
        import vl_convert
    except ImportError:
        return

    target = Path(app.outdir) / "_static" / STATIC_DIR / vega_bundle_name()
    if target.is_file() and target.stat().st_size > 100_000:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    bundle = vl_convert.javascript_bundle(vl_version=VEGALITE_VERSION)
    # a plain script that defines window.vega, window.vegaLite and window.vegaEmbed;
    # the function scope keeps its top-level names out of the page's global scope
    text = "/* Vega, Vega-Lite and vega-embed (BSD-3-Clause), bundled by vl-convert */\n"
    text += f"(function () {{\n{bundle}\n}})();\n"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)


def add_student_colab_link(app, pagename, templatename, context, doctree) -> None:
    """Add "Colab (student copy)" after the theme's Colab button of a chapter page."""
    if not pagename.startswith("notebooks/"):
        return
    name = pagename.split("/", 1)[1]
    if not (Path(app.srcdir) / "notebooks" / "student" / f"{name}.ipynb").is_file():
        return
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        buttons = group["buttons"]
        for i, button in enumerate(list(buttons)):
            url = button.get("url", "")
            if button.get("text") == "Colab" and url.endswith(f"/notebooks/{name}.ipynb"):
                student = {
                    **button,
                    "text": "Colab (student copy)",
                    "tooltip": "Launch the student copy (exercises blank) on Colab",
                    "url": url[: -len(f"{name}.ipynb")] + f"student/{name}.ipynb",
                }
                buttons.insert(i + 1, student)
                return


EXTENSION_VERSION = "2"


def setup(app):
    # a new version changes the HTML config hash, so every page is written again
    app.add_config_value("rulkit_book_extension", EXTENSION_VERSION, "html")
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("html-page-context", use_local_vega, priority=500)
    app.connect("html-page-context", add_student_colab_link, priority=600)
    app.connect("build-finished", write_vega_bundle)
    return {"version": EXTENSION_VERSION, "parallel_read_safe": True, "parallel_write_safe": True}
