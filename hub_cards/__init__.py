"""The dataset card template (``dataset_card.md``), shipped inside the package as ``archllm_hf.hub_cards``."""
