"""The machinery that runs the analysis: steps, the plan and the workers, the runner, the
cache, parameters, the catalog of datasets, the run lock, sweeps and the command line.

It may import every stage below it (the analysis checks model specifications before a run; the
data dictionary is a command), never the report: the report step plugs in through its hooks
(:mod:`citycluster.report.hooks`), which the runner imports by name."""
