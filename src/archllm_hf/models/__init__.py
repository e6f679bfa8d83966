"""Models of archllm-hf, one folder per model."""
