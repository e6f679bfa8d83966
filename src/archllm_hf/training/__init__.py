"""Training loops built on the transformers Trainer."""
