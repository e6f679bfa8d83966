"""Model and dataset card templates, shipped inside the package as ``archllm_hf.hub_cards``."""
