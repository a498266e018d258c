"""Turning a ``[data.*]`` config section into training :class:`~.data.Example` lists.

Kinds:

* ``synth`` — the synthetic sign language, generated in-process (no files): ``sentences``,
  ``seed``, ``split`` (train/dev/test), ``signers`` (optional count), ``rendered_negatives``
  (hard-negative *videos* rendered per item and batched with it), ``hard_texts`` (use the
  hard-negative *texts* of each item, default true), ``shuffle_negatives`` (scrambled sign
  order among the rendered negatives), ``deletion_negatives = k`` (one more rendered negative
  for every k-th item: its signs with some dropped), ``degraded_variants`` (renderings with
  keypoint noise, uneven speed or frozen frames per item, each with its fidelity; ``degraded_kinds`` picks
  among ``noise``, ``jitter``, ``frozen``; ``degraded_every = k`` renders them for every k-th
  item only; ``degraded_target = "quality"`` adds the meaning errors ``substitution``,
  ``deletion``, ``insertion``, ``shuffle``, ``direction``, ``negation``, pairs every rendering
  with the reference text and its true quality, and needs ``degraded_in_contrastive = false``),
  ``renderings`` (up to N English wordings of every video's sentence, the rendered negatives'
  included; default: the corpus's 4 for items, 1 for rendered negatives), ``hard_text_renderings``
  (up to K wordings of each hard-negative text, one drawn per step; default 1).
* ``jsonl`` — a manifest on disk (e.g. written by ``silverscore synth``): ``manifest``; with
  ``hard_negatives`` (a folder of ``<set>/manifest.jsonl`` files whose rows carry ``source_id``)
  the rendered negatives join their source's group and their texts its hard texts.
* ``phoenix`` / ``csl`` / ``how2sign`` / ``cico`` — real corpora through
  :mod:`silverscore.datasets` (``root``, ``split``, ``media``, ``media_kind`` pose or i3d).

``limit`` (any kind) keeps the first N items, for quick runs.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .data import Example


#: The keys a ``[data.*]`` section may hold, by kind (``kind`` and ``limit`` for every kind).
SYNTH_KEYS = frozenset({"sentences", "seed", "split", "signers", "rendered_negatives", "hard_texts",
                        "shuffle_negatives", "deletion_negatives", "degraded_variants", "degraded_kinds",
                        "degraded_every", "degraded_target", "renderings", "hard_text_renderings"})
CORPUS_KEYS = frozenset({"root", "split", "media", "media_kind", "manifest", "skip_missing", "hard_negatives"})


def unknown_data_keys(section: dict) -> list[str]:
    """Keys of a ``[data.*]`` section its kind does not read (a typo would otherwise be ignored)."""
    allowed = {"kind", "limit"} | (SYNTH_KEYS if section.get("kind") == "synth" else CORPUS_KEYS)
    return sorted(set(section) - allowed)


def examples_from_records(records) -> list[Example]:
    return [Example(id=r.id, video=r.media, text=r.text, paraphrases=list(r.paraphrases),
                    hard_texts=list(r.extra.get("hard_texts", [])) if r.extra else [],
                    glosses=tuple(r.glosses) if r.glosses else None, signer=r.signer, meta=dict(r.extra or {}))
            for r in records]


def _attach_rendered_negatives(examples: list[Example], folder: Path) -> list[Example]:
    from ..datasets.loaders import load_jsonl

    by_id = {ex.id: ex for ex in examples}
    added = []
    for manifest in sorted(folder.glob("*/manifest.jsonl")):
        for rec in load_jsonl(manifest):
            source = by_id.get(str(rec.extra.get("source_id")))
            if source is None:
                continue
            source.group = source.id
            if rec.text not in source.hard_texts:
                source.hard_texts.append(rec.text)
            added.append(Example(id=f"{manifest.parent.name}/{rec.id}", video=rec.media, text=rec.text,
                                 paraphrases=list(rec.paraphrases), glosses=tuple(rec.glosses) if rec.glosses else None,
                                 group=source.id, signer=rec.signer, meta={"set": manifest.parent.name, **rec.extra}))
    return examples + added


def build_examples(section: dict, default_seed: int = 0, processes=0) -> list[Example]:
    """The examples of one ``[data.*]`` section; ``processes``: worker processes that render
    synthetic videos (a count or :class:`silverscore.parallel.Workers`; the same examples)."""
    kind = section["kind"]
    limit = section.get("limit")
    if kind == "synth":
        from .synthetic import synth_examples

        examples = synth_examples(
            sentences=int(section.get("sentences", 1000)), seed=int(section.get("seed", default_seed)),
            split=section.get("split", "train"), signers=section.get("signers"),
            rendered_negatives=int(section.get("rendered_negatives", 0)),
            hard_texts=bool(section.get("hard_texts", True)),
            shuffle_negatives=bool(section.get("shuffle_negatives", False)),
            deletion_negatives=int(section.get("deletion_negatives", 0)),
            degraded_variants=int(section.get("degraded_variants", 0)),
            degraded_kinds=tuple(section["degraded_kinds"]) if "degraded_kinds" in section else None,
            degraded_every=int(section.get("degraded_every", 1)),
            degraded_target=str(section.get("degraded_target", "fidelity")),
            renderings=int(section.get("renderings", 0)),
            hard_text_renderings=int(section.get("hard_text_renderings", 1)),
            processes=processes,
        )
    else:
        from ..datasets import load_dataset

        records = load_dataset(kind, root=section.get("root"), split=section.get("split"), media=section.get("media"),
                               media_kind=section.get("media_kind", "pose"), manifest=section.get("manifest"),
                               skip_missing=bool(section.get("skip_missing", False)))
        examples = examples_from_records(records)
        if section.get("hard_negatives"):
            folder = Path(section["hard_negatives"])
            if not folder.is_dir():
                raise InputError(folder, "hard_negatives folder not found")
            examples = _attach_rendered_negatives(examples, folder)
    if limit:
        examples = examples[: int(limit)]
    if not examples:
        raise InputError(None, f"[data] section of kind {kind!r} produced no examples")
    return examples


def build_model_for(model_section: dict, examples: list[Example]):
    """An untrained model from the ``[model]`` section; pose models take their keypoint layout
    from the data (names of the first example's keypoints) unless ``keypoints`` is given."""
    from ..models.registry import build_model

    section = dict(model_section)
    architecture = section.get("architecture", "pose_minilm")
    if architecture == "pose_minilm":
        from ..inputs.poses import as_pose_sequence
        from ..models.pose_text import PoseTextModel

        names = section.pop("keypoints", None)
        if names is None:
            names = as_pose_sequence(examples[0].video).keypoints
        if names is None:
            raise InputError(None, "the pose data has no keypoint names; list them under [model] keypoints")
        section.pop("architecture", None)
        return PoseTextModel(PoseTextModel.default_config(names, **section))
    return build_model(section)
