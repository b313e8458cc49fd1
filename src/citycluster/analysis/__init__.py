"""Step 03: the named samples a model is fitted on, model and trend specifications (checked
before a run), statsmodels fits with their diagnostics and intervals as tidy tables, and
within-entity changes between dated claims.

It may import :mod:`citycluster.ingest` (a sample reuses its membership rules),
:mod:`citycluster.data` and the base modules; not validation, the fact-check, the report or
the machinery."""
