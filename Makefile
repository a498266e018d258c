# Reproducible builds of the bundled default model (see docs/training.md).
PYTHON ?= python

.PHONY: default-model bench-default-model

# Retrain the default model from scratch on CPU (one process, two threads, seeded, deterministic
# kernels, CPU code pinned to AVX-512; the towers, then the form head; session 25 on 2 cores of
# an AMD EPYC: 39 min, 24 for the towers and 15 for the form head: docs/training.md)
# and install it as package data.
default-model:
	$(PYTHON) -m silverscore.cli train --config configs/default_model.toml
	cp runs/default_model/model.safetensors src/silverscore/data/default.safetensors
	cp runs/default_model/model.json src/silverscore/data/default.json

# Every "Done when" figure of the bundled default model on the synthetic test split.
bench-default-model:
	$(PYTHON) benchmarks/bench_default_model.py
