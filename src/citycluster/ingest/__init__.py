"""Step 01: raw files to typed, normalised staged tables, and the tables derived from them
(population and GDP shares, city distances, the clusters summed from their members, estimates
for missing member figures and the worklist, every place's name in every language).

Nothing here is published: validation audits the staging area first. It may import
:mod:`citycluster.data` and the base modules, never a later stage."""
