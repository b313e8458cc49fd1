"""Step 02, the audit of write-audit-publish: great-expectations suites derived from the
contracts run on the staging area, and ``data/processed/`` is replaced only when every
critical rule holds.

It may import :mod:`citycluster.ingest`, :mod:`citycluster.data` and the base modules (today
it needs only data); the analysis and the fact-check neither import it nor are imported by
it: they read only what it published."""
