"""Experiment and config models, YAML loading with source positions, the `where` parser."""
