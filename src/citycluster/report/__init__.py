"""The narrative report: prose bound to computed values, in every language with a catalog,
offline.

The 06_report notebook displays the HTML fragments :mod:`~citycluster.report.body` builds, one
section per cell; nbconvert then turns the executed notebook into a page with no code shown,
through a template that loads nothing from the network. Every string that comes from data
passes through Jinja2's autoescaping. Words come from the catalogs (:mod:`.i18n`), numbers from
Babel (:mod:`.numbers`), place names from the ``place_names`` table (:mod:`.names`); a
section speaks through a :class:`~citycluster.report.voice.Voice`.

It may import every stage below it (the map uses ingest's membership rules, the model figures
rebuild the analysis samples, the tables read source mixes from data), never the machinery: a
notebook hands it the parameters and paths it needs.
"""
