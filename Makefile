# Reproducible builds of the bundled default model (see docs/training.md).
PYTHON ?= python

.PHONY: default-model bench-default-model

# Retrain the default model from scratch on CPU (one process, two threads, seeded, deterministic
# kernels; the towers, then the form head; session 17 on 2 cores: 43 min, 26 for the towers
# and 17 for the form head, the shipped weights bit for bit; session 16's head without the
# noise floor: 40 min: docs/training.md) and install it as package data.
default-model:
	$(PYTHON) -m silverscore.cli train --config configs/default_model.toml
	cp runs/default_model/model.safetensors src/silverscore/data/default.safetensors
	cp runs/default_model/model.json src/silverscore/data/default.json

# Every "Done when" figure of the bundled default model on the synthetic test split.
bench-default-model:
	$(PYTHON) benchmarks/bench_default_model.py
