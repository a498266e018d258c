"""Training our alignment models (``silverscore train``): config, data, loss, loop."""
