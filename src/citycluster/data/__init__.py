"""What the tables are and how a file becomes one: the contracts declared in
``data/raw/datapackage.yaml`` and ``data/processed.datapackage.yaml``, the strict CSV reader,
the unit table, source kinds, and the data dictionaries rendered from the contracts.

Every later stage reads its tables through these contracts, so this is the bottom stage: it may
import only the base modules at the package top (errors, paths, publish, languages, kernel);
checked by ``make lint`` (the layers contract in pyproject.toml)."""
