"""Architecture twins: SAM3 graphs exported from the upstream PyTorch architecture (needs the
``export`` extra: torch, torchvision, transformers), and the published variants made from them
(``quantize``). Used for the tiny twins in the tests, the full-size twin in the benchmarks, and
by anyone who wants to export real weights the same way. Not the dataset export: that is
``sam3_canvas.annotations``."""
