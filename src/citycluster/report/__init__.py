"""The narrative report: prose bound to computed values, in Chinese and English, offline.

The 06_report notebook displays HTML fragments built here; nbconvert then turns the executed
notebook into a page with no code shown, through a template that loads nothing from the network.
Every string that comes from data passes through Jinja2's autoescaping. The package is read as
one namespace by the notebook (``report.section``, ``report.pct``): ``text`` holds the
sentences, ``html`` the fragments and pages, ``charts`` the figures, ``hooks`` what the chain
calls around the report step.
"""

from citycluster.formatting import BASE_UNITS, interval, num, pct, quantity
from citycluster.report.html import (
    basis_text,
    export_html,
    factcheck_section,
    footer,
    header,
    mix_text,
    reading,
    section,
    table,
    vintage_mix,
    write_index,
)
from citycluster.report.text import LABELS, SECTIONS, TEXT, label, text

__all__ = ["BASE_UNITS", "LABELS", "SECTIONS", "TEXT", "basis_text", "export_html",
           "factcheck_section", "footer", "header", "interval", "label", "mix_text", "num",
           "pct", "quantity", "reading", "section", "table", "text", "vintage_mix",
           "write_index"]
