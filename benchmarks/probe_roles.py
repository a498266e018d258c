"""Where does a pose_minilm model lose "who acts"? Linear probes on its window and text tokens.

    python benchmarks/probe_roles.py [--model PATH] [--train-items 1200] [--dev-items 500]

A role swap ("Mary lends Tom a mug" vs "Tom lends Mary a mug") keeps every sign and word and
changes only who acts. In the synthetic language the two persons are placed at loci in
alphabetical order and only the directional verb's movement (locus a → b or b → a) says who the
agent is, so the fine-grained similarity can only tell a swap if some video token and some text
token carry the same piece of role information. This script asks, for the transfer sentences of
the synthetic train split (probe fit) and dev split (probe accuracy), which tokens carry which
piece, with a logistic-regression probe per question (chance ≈ 0.5):

* video, verb window: the movement's direction (a → b or b → a);
* video, name windows: is this person the agent or the recipient;
* text, person-name tokens: agent or recipient, in the model's joint space and in the frozen
  MiniLM states it reads (what the text head could keep);
* text, mean of the tokens: is the agent alphabetically first (= the direction the video shows).

Windows are matched to signs by the synthetic item's sign spans (the window whose centre is
nearest the sign's centre). Figures go to stdout; nothing is written.
"""
from __future__ import annotations

import argparse
import re
import sys

import numpy as np
import torch


def _window_of(span: tuple[int, int], centres: np.ndarray) -> int:
    return int(np.argmin(np.abs(centres - (span[0] + span[1]) / 2)))


def _name_token_rows(tokenizer, text: str, surfaces: list[str]) -> list[int] | None:
    """Token rows (with [CLS] at 0) of the one occurrence of any of ``surfaces`` in ``text``."""
    low = text.lower()
    spans = [m.span() for s in surfaces for m in re.finditer(r"\b" + re.escape(s.lower()) + r"\b", low)]
    if len(spans) != 1:
        return None
    start, end = spans[0]
    offsets = tokenizer.encode(text, add_special_tokens=False).offsets
    rows = [i + 1 for i, (s, e) in enumerate(offsets) if e > s and s >= start and e <= end]
    return rows or None


def collect(net, split: str, count: int, seed: int) -> dict[str, tuple[list, list]]:
    from silverscore.inputs.poses import PoseSequence
    from silverscore.models.pose_encoder import window_starts
    from silverscore.synth import english
    from silverscore.synth.corpus import generate_corpus
    from silverscore.train.synthetic import keypoint_names

    names = keypoint_names()
    config = net.pose_encoder.config
    items = [it for it in generate_corpus(count, seed, split) if it.frame["kind"] == "transfer"]
    probes: dict[str, tuple[list, list]] = {}

    def add(key: str, x: torch.Tensor | np.ndarray, label: int) -> None:
        rows, labels = probes.setdefault(key, ([], []))
        rows.append(np.asarray(x, dtype=np.float32))
        labels.append(label)

    for item in items:
        frame = item.frame
        features = net.prepare_video(PoseSequence(item.pose, item.confidence, float(item.fps), names))
        with torch.no_grad():
            windows, _ = net.encode_prepared([features])
        starts = window_starts(len(features), config.window, config.stride, config.max_windows)
        # window centres in the item's own frames (the model resamples to its fps)
        centres = (starts + config.window / 2) * (item.fps / net.normalizer.fps)
        for gloss, span in zip(item.glosses, item.sign_spans):
            if ">" in gloss:
                add("video: verb window → direction", windows[0, _window_of(span, centres)], int(gloss.endswith("a>b")))
            elif gloss in (frame["agent"], frame["recipient"]):
                add("video: name window → agent?", windows[0, _window_of(span, centres)], int(gloss == frame["agent"]))
        for text in [item.text] + list(item.paraphrases)[:1]:
            with torch.no_grad():
                tokens, _, _ = net.encode_texts([text])
            states = net.text_states([text])[0][0]
            add("text: mean token → agent first?", tokens[0].mean(0), int(frame["agent"] < frame["recipient"]))
            for person, label in ((frame["agent"], 1), (frame["recipient"], 0)):
                rows = _name_token_rows(net.backbone.tokenizer, text, english.PERSON[person])
                if rows is not None:
                    add("text: name tokens → agent? (joint space)", tokens[0, rows].mean(0), label)
                    add("text: name tokens → agent? (MiniLM input)", states[rows].mean(0), label)
    return probes


def main(argv=None) -> int:
    from sklearn.linear_model import LogisticRegression

    from silverscore.api import Scorer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="a pose_minilm model (default: the bundled one)")
    parser.add_argument("--train-items", type=int, default=1200, help="sentences of the train split (about 15 %% are transfers)")
    parser.add_argument("--dev-items", type=int, default=500)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    net = Scorer(model=args.model, progress=False).net
    if not hasattr(net, "pose_encoder"):
        print("probe_roles.py needs a pose_minilm model", file=sys.stderr)
        return 2
    fit = collect(net, "train", args.train_items, args.seed)
    held = collect(net, "dev", args.dev_items, args.seed)
    print(f"model: {args.model or 'bundled default'}; probe accuracy on dev transfers (chance ≈ 0.5)")
    for key in fit:
        x_fit, y_fit = np.stack(fit[key][0]), np.array(fit[key][1])
        x_dev, y_dev = np.stack(held[key][0]), np.array(held[key][1])
        probe = LogisticRegression(max_iter=3000).fit(x_fit, y_fit)
        print(f"  {key:44s} fit {probe.score(x_fit, y_fit):.3f}  dev {probe.score(x_dev, y_dev):.3f}"
              f"  (n = {len(y_fit)} / {len(y_dev)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
