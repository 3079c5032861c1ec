"""Observed histories as event logs: readers that turn a git repository (Gerrit, GitHub or
kernel-style pull workflow), a Gerrit REST export, a GitHub pull-request export or a model's
Parquet log into one table of :mod:`model.eventlog`'s schema, so that every pattern is
computed by the same code on simulated runs and on real projects (:func:`observe.sources.
read_source` is the entry point)."""
