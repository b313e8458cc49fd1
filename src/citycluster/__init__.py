"""citycluster: the figures an article cites on city clusters, tested against official statistics.

The notebooks in ``notebooks/`` tell the story; this package holds the logic they call, so it can
be unit-tested and reused outside a notebook.
"""

__version__ = "0.1.0"
