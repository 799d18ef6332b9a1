"""Exporting SAM3 graphs with the upstream architecture (needs the ``export`` extra: torch,
torchvision, transformers). Used for the tiny architecture twins in the tests, and by anyone
who wants to export real weights the same way."""
