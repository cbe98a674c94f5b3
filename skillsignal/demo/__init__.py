"""The project's own demo job board: deterministic postings written from templates, served over HTTP.

``DemoBoard`` (in :mod:`skillsignal.demo.board`) serves list pages, detail pages with a schema.org
``JobPosting`` JSON-LD block, ``robots.txt`` and ``sitemap.xml`` on 127.0.0.1. The postings come from
:func:`skillsignal.demo.generator.generate_postings`, which fills the YAML templates under ``data/``.
"""

from .generator import DemoPosting, generate_postings

__all__ = ["DemoPosting", "generate_postings"]
