"""Qt-free annotation documents and the dataset formats (mask PNGs first)."""
