"""Step 04: each claim against the independent figures: which references it can be compared
with (:mod:`.candidates`), how it is judged, with the reason as catalog codes
(:mod:`.verdicts`), and every check as one table (:mod:`.claims`).

It may import :mod:`citycluster.ingest`, :mod:`citycluster.data` and the base modules; not
validation, the analysis, the report or the machinery."""
