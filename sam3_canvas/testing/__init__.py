"""Stand-in models for tests, benchmarks and demos: real ONNX graphs, small and predictable."""
