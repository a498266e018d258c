"""Corpus-scale video work: per-file runs with resuming and torchrun sharding, pose extraction.

I3D features live in :mod:`silverscore.extract`; decoding and pre-processing in
:mod:`silverscore.inputs.video`.
"""
