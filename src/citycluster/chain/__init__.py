"""The machinery that runs the analysis: steps, the runner, the cache, parameters, the catalog
of datasets, the run lock, sweeps and the command line. Nothing here imports the report; the
report step plugs in through its hooks (:mod:`citycluster.report.hooks`)."""
