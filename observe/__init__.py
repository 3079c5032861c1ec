"""Observation: real project histories and simulated runs read into one event log
(:mod:`model.eventlog`), and the patterns computed from it by one definition each
(:mod:`observe.patterns`)."""
