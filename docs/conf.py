"""Sphinx configuration: ``make docs`` builds docs/_build/html with warnings as errors."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Document the package of this tree (also when it is not installed) and load the
# extensions in docs/_ext/.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))

import smarkets  # noqa: E402

project = "smarkets"
author = "smarkets maintainers"
copyright = "the smarkets maintainers"
release = smarkets.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "protoref",
    "smarkets_docs",
]

exclude_patterns = ["_build"]
templates_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
add_module_names = False
python_use_unqualified_type_names = True

html_theme = "alabaster"
html_title = f"smarkets {release}"
html_theme_options = {
    "description": "A client for a betting exchange's streaming API, and a sandbox exchange",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_static_path: list[str] = []
