"""Every experiment on a synthetic test folder (``silverscore synth``), baselines included.

Layout read (see docs/synth.md):

* ``DIR/manifest.jsonl`` – one test item per line: ``id``, ``text`` (English reference), ``pose``
  (its reference signing), ``paraphrases`` (other English renderings of the same meaning),
  ``intensity`` (none/low/high), ``signer``, …;
* ``DIR/hard_negatives/<set>/manifest.jsonl`` – ``id``, ``source_id``, ``text`` (what the video
  actually signs), ``reference_text``, ``pose``;
* ``DIR/systems/<name>/manifest.jsonl`` – a simulated generation system's output per test item:
  ``id``, ``pose``, ``signed_text`` (the English of what it signed: the *oracle back-translation*),
  ``quality``; ``DIR/systems/systems.json`` – the systems' known corpus quality.

The "video" of the paper is a pose sequence here. Text baselines (BLEU-1..4, chrF, ROUGE-L) get
the oracle back-translation, i.e. a perfect recogniser: an upper bound for back-translation
metrics. The pose baseline is DTW mean joint error against the reference signing. All scores go
through one :class:`SynthSession`, which reads each pose once and never scores the same
(pose, text) pair twice across experiments.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from ..errors import InputError
from ..inputs.references import read_jsonl
from . import analyses, experiments
from .pairs import draw_random_pairs, own_pair_mask
from .runners import resolve_pairs
from .report import assemble_report, fmt, markdown_table
from .text_baselines import DEFAULT_ROUGE, text_baselines

INTENSITY_ORDER = ("none", "low", "high")
MATRIX_MAX_CELLS = 160_000  # up to 400 x 400 items: one score_matrix call beats 2N paired encodings


# ------------------------------------------------------------------------------------ reading
def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise InputError(path, "manifest not found (is this a `silverscore synth` folder?)")
    rows = read_jsonl(path)
    for number, row in enumerate(rows, 1):
        if "id" not in row:
            raise InputError(path, f"line {number} has no 'id'")
    if not rows:
        raise InputError(path, "empty manifest")
    return rows


def _pose_path(row: dict, manifest: Path, root: Path) -> Path:
    """Pose paths may be absolute, relative to the manifest's folder or to the test folder."""
    if "pose" not in row:
        raise InputError(manifest, f"item {row['id']!r} has no 'pose'")
    raw = Path(row["pose"])
    candidates = [raw] if raw.is_absolute() else [manifest.parent / raw, root / raw]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(manifest, f"pose file of item {row['id']!r} not found: {row['pose']}")


@dataclass
class SynthTestSet:
    root: Path
    ids: list[str]
    texts: list[str]
    poses: list[Path]
    rows: list[dict]

    def field(self, name: str, default=None) -> list:
        return [row.get(name, default) for row in self.rows]


@dataclass
class SynthSystem:
    name: str
    quality: float
    ids: list[str]
    poses: list[Path]
    signed_texts: list[str]
    item_quality: list[float | None]


def load_test_set(root: str | Path) -> SynthTestSet:
    root = Path(root)
    manifest = root / "manifest.jsonl"
    rows = _read_jsonl(manifest)
    for row in rows:
        if not isinstance(row.get("text"), str):
            raise InputError(manifest, f"item {row['id']!r} has no 'text'")
    return SynthTestSet(root, [str(r["id"]) for r in rows], [r["text"] for r in rows],
                        [_pose_path(r, manifest, root) for r in rows], rows)


def load_hard_negatives(root: str | Path) -> dict[str, list[dict]]:
    """Set name → rows (with a resolved ``pose_path``); sets absent on disk are left out."""
    from ..synth.negatives import HARD_NEGATIVE_SETS  # the writer's set order (import only when needed)

    root = Path(root)
    sets = {}
    base = root / "hard_negatives"
    names = [n for n in HARD_NEGATIVE_SETS if (base / n / "manifest.jsonl").is_file()]
    names += sorted(p.name for p in base.glob("*") if p.is_dir() and p.name not in names and (p / "manifest.jsonl").is_file()) if base.is_dir() else []
    for name in names:
        manifest = base / name / "manifest.jsonl"
        rows = _read_jsonl(manifest)
        for row in rows:
            row["pose_path"] = _pose_path(row, manifest, root)
            for key in ("source_id", "text", "reference_text"):
                if key not in row:
                    raise InputError(manifest, f"item {row['id']!r} has no {key!r}")
        sets[name] = rows
    return sets


def load_systems(root: str | Path) -> list[SynthSystem]:
    """Simulated systems, sorted by known quality (worst first)."""
    root = Path(root)
    base = root / "systems"
    if not base.is_dir():
        return []
    declared: dict[str, float] = {}
    info = base / "systems.json"
    if info.is_file():
        try:
            payload = json.loads(info.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise InputError(info, f"not valid JSON ({err.msg})") from None
        entries = payload.get("systems", payload) if isinstance(payload, dict) else payload
        if isinstance(entries, dict):
            for name, value in entries.items():
                q = value.get("quality") if isinstance(value, dict) else value
                if isinstance(q, (int, float)):
                    declared[str(name)] = float(q)
        elif isinstance(entries, list):
            for value in entries:
                if isinstance(value, dict) and "name" in value and isinstance(value.get("quality"), (int, float)):
                    declared[str(value["name"])] = float(value["quality"])
    systems = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and (p / "manifest.jsonl").is_file()):
        manifest = folder / "manifest.jsonl"
        rows = _read_jsonl(manifest)
        item_quality = [float(r["quality"]) if isinstance(r.get("quality"), (int, float)) else None for r in rows]
        known = [q for q in item_quality if q is not None]
        quality = declared.get(folder.name, float(np.mean(known)) if known else None)
        if quality is None:
            raise InputError(manifest, f"system {folder.name!r} has no known quality (systems.json or per-item 'quality')")
        systems.append(SynthSystem(folder.name, quality, [str(r["id"]) for r in rows],
                                   [_pose_path(r, manifest, root) for r in rows],
                                   [str(r.get("signed_text", "")) for r in rows], item_quality))
    return sorted(systems, key=lambda s: s.quality)


# ------------------------------------------------------------------------------------ scoring
@dataclass
class SynthSession:
    """One scorer over one test folder: poses read once, (pose, text) scores memoised."""

    scorer: object
    root: Path
    seed: int = 0
    rouge_variant: str = DEFAULT_ROUGE
    tokenize: str = "13a"  # the synthetic English is raw text with punctuation
    _poses: dict = field(default_factory=dict)
    _scores: dict = field(default_factory=dict)
    _dtw: dict = field(default_factory=dict)

    def __post_init__(self):
        self.root = Path(self.root)
        self.test = load_test_set(self.root)
        self.index = {i: k for k, i in enumerate(self.test.ids)}
        self._test_texts = set(self.test.texts)
        self._groups: dict[str, list[str]] | None = None

    def pose(self, path: Path):
        key = str(path)
        if key not in self._poses:
            self._poses[key] = self.scorer.load_hypothesis(path)
        return self._poses[key]

    def _pose_groups(self) -> dict[str, list[str]]:
        """Folder → every pose of that set (test set, each system, each hard-negative set)."""
        if self._groups is None:
            groups: dict[str, list[str]] = {}
            paths = [*self.test.poses, *(p for s in load_systems(self.root) for p in s.poses),
                     *(r["pose_path"] for rows in load_hard_negatives(self.root).values() for r in rows)]
            for path in paths:
                groups.setdefault(str(Path(path).parent), []).append(str(path))
            self._groups = {k: list(dict.fromkeys(v)) for k, v in groups.items()}
        return self._groups

    def score(self, poses: Sequence[Path], texts: Sequence[str]) -> np.ndarray:
        """SiLVERScore of each (pose k, text k), each pair computed once per session.

        Canonical route, so that a number never depends on which experiment asked first: a pose
        of a known set scored against a test reference comes from one ``score_matrix`` call of
        that whole set × all test references (each pose encoded once; correct and random pairs
        all lie in it) as long as that matrix has at most ``MATRIX_MAX_CELLS`` cells; any other
        pair (e.g. a hard-negative *text*) is scored paired.
        """
        keys = [(str(p), t) for p, t in zip(poses, texts)]
        todo = [k for k in dict.fromkeys(keys) if k not in self._scores]
        groups = self._pose_groups()
        for folder in dict.fromkeys(str(Path(p).parent) for p, t in todo if t in self._test_texts):
            members = groups.get(folder)
            if members and len(members) * len(self.test.texts) <= MATRIX_MAX_CELLS:
                self._matrix(members)
        todo = [k for k in todo if k not in self._scores]
        if todo:
            result = self.scorer.score([self.pose(Path(p)) for p, _ in todo], [t for _, t in todo])
            self._scores.update(zip(todo, map(float, result.scores)))
        return np.asarray([self._scores[k] for k in keys], dtype=np.float64)

    def _matrix(self, poses: list[str]) -> None:
        texts = list(dict.fromkeys(self.test.texts))
        items = [self.pose(Path(p)) for p in poses]
        result = self.scorer.score_matrix(items, texts)
        for row, p in enumerate(poses):
            for col, t in enumerate(texts):
                self._scores.setdefault((p, t), float(result.scores[row, col]))

    def dtw(self, generated: Sequence[Path], reference: Sequence[Path]) -> np.ndarray:
        """-DTW-MJE of each (generated pose k, reference pose k), memoised by file pair."""
        from .pose_baselines import dtw_mean_joint_error

        out = np.empty(len(generated))
        for n, (g, r) in enumerate(zip(generated, reference)):
            key = (str(g), str(r))
            if key not in self._dtw:
                self._dtw[key] = -dtw_mean_joint_error(self.pose(Path(g)), self.pose(Path(r)))
            out[n] = self._dtw[key]
        return out

    @property
    def signature(self) -> str:
        return self.scorer.signature

    @property
    def progress(self) -> bool:
        """Progress bars follow the scorer's setting (``--quiet``, or stderr not a terminal)."""
        return bool(getattr(self.scorer, "progress", False))

    def pairs(self, n: int, pairs_file=None, save_to=None, ids=None) -> np.ndarray:
        return resolve_pairs(n, self.seed, pairs_file, save_to, ids)

    def best_system(self) -> SynthSystem | None:
        return best_imperfect_system(load_systems(self.root))

    def aligned(self, system: SynthSystem) -> tuple[list[int], list[int]]:
        """(system row, test row) index lists of the test items the system generated."""
        sys_rows, test_rows = [], []
        for r, item in enumerate(system.ids):
            if item in self.index:
                sys_rows.append(r)
                test_rows.append(self.index[item])
        if len(sys_rows) < 2:
            raise InputError(self.root / "systems" / system.name, "fewer than 2 items match the test manifest ids")
        return sys_rows, test_rows


def best_imperfect_system(systems: Sequence[SynthSystem]) -> SynthSystem | None:
    """The highest-quality system that still makes errors (a perfect "reference" system would make
    its oracle back-translation equal the reference and every text baseline trivially 100)."""
    if not systems:
        return None
    top = max(s.quality for s in systems)
    imperfect = [s for s in systems if s.quality < top] if top >= 1.0 else list(systems)
    return max(imperfect or systems, key=lambda s: s.quality)


def _signature(session: SynthSession, experiment: str, **params) -> str:
    extra = "".join(f"|{k}:{v}" for k, v in params.items())
    return f"{session.signature}|meta:{experiment}|data:{session.root.name}|seed:{session.seed}{extra}|bins:50"


def _system_metrics(session: SynthSession, system: SynthSystem, pairs: np.ndarray, sys_rows,
                    test_rows) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Correct and random pairs of one system: SiLVERScore, oracle text baselines, -DTW-MJE."""
    test = session.test
    gen = [system.poses[r] for r in sys_rows]
    bt = [system.signed_texts[r] for r in sys_rows]
    refs = [test.texts[t] for t in test_rows]
    ref_poses = [test.poses[t] for t in test_rows]
    series = {"SiLVERScore": (session.score(gen, refs),
                              session.score([gen[i] for i, _ in pairs], [refs[j] for _, j in pairs]))}
    correct = text_baselines(bt, refs, session.rouge_variant, session.tokenize)
    random = text_baselines([bt[i] for i, _ in pairs], [refs[j] for _, j in pairs], session.rouge_variant, session.tokenize)
    for metric in correct:
        series[f"{metric} (oracle BT)"] = (correct[metric], random[metric])
    series["-DTW-MJE"] = (session.dtw(gen, ref_poses),
                          session.dtw([gen[i] for i, _ in pairs], [ref_poses[j] for _, j in pairs]))
    return series


# ------------------------------------------------------------------------------------ experiments
def _session(scorer, root, seed=0) -> SynthSession:
    return scorer if isinstance(scorer, SynthSession) else SynthSession(scorer, Path(root), seed)


def run_discrimination(scorer, root, out_dir=None, seed: int = 0, pairs_file=None, save_pairs_to=None) -> dict:
    """Correct vs random on the reference signing (primary) and on every simulated system."""
    session = _session(scorer, root, seed)
    test = session.test
    pairs = session.pairs(len(test.ids), pairs_file, save_pairs_to, test.ids)
    series = {"SiLVERScore": (session.score(test.poses, test.texts),
                              session.score([test.poses[i] for i, _ in pairs], [test.texts[j] for _, j in pairs]))}
    own = {"SiLVERScore": own_pair_mask(pairs)}
    by_system = {}
    systems = load_systems(session.root)
    best = best_imperfect_system(systems)
    for system in tqdm(systems, desc="systems", unit="system", leave=False, disable=not session.progress):
        sys_rows, test_rows = session.aligned(system)
        sys_pairs = draw_random_pairs(len(sys_rows), session.seed)
        metrics = _system_metrics(session, system, sys_pairs, sys_rows, test_rows)
        by_system[system.name] = {m: {k: v for k, v in analyses.discrimination(c, r).items() if k in ("auc", "overlap")}
                                  for m, (c, r) in metrics.items()}
        if system is best:
            series.update({f"{m} [{system.name}]": v for m, v in metrics.items()})
            own.update({f"{m} [{system.name}]": own_pair_mask(sys_pairs) for m in metrics})
    extra = {"n": len(test.ids), "seed": session.seed, "reference_signing": "SiLVERScore",
             "best_system": best.name if best else None, "by_system": by_system}
    result = experiments.discrimination_experiment(
        series, _signature(session, "discrimination"), out_dir=out_dir, extra=extra,
        title="Correct vs random (synthetic)", own=own)
    if out_dir is not None and by_system:
        _append_system_table(out_dir, "discrimination", result, by_system)
    return result


def _append_system_table(out_dir, name: str, result: dict, by_system: dict) -> None:
    """Re-write the section with an extra per-system AUC table (metric × system)."""
    metrics = list(next(iter(by_system.values())))
    rows = [[system] + [fmt(by_system[system][m]["auc"], 3) for m in metrics] for system in by_system]
    md_path = Path(out_dir) / f"{name}.md"
    text = md_path.read_text(encoding="utf-8")
    table = ("\nEvery simulated system (worst to best known quality): correct-vs-random AUC of each metric "
             "on that system's outputs (overlaps in the JSON):\n\n"
             + markdown_table(["system", *metrics], rows))
    head, sep, tail = text.partition("\n![")
    from ..io_utils import atomic_write

    with atomic_write(md_path) as handle:
        handle.write(head.rstrip() + "\n" + table + (sep + tail if sep else ""))


def _words(text: str) -> list[str]:
    """Lower-cased word tokens without punctuation ("Yesterday," → "yesterday")."""
    return re.findall(r"[\w']+", text.lower())


def _rewrites(test: SynthTestSet, kind: str) -> tuple[list[int], list[str]]:
    """Items that have a rewrite and the rewritten reference of each.

    ``reorder``: the paraphrase whose words are the same multiset as the reference's (a pure
    reordering) if there is one, else the one sharing the most words – the closest the manifest
    has to the paper's LLM reordering. ``paraphrase``: the one sharing the fewest words (the
    strongest surface change of the same meaning), so the two experiments differ.
    """
    items, texts = [], []
    for k, row in enumerate(test.rows):
        options = [p for p in (row.get("paraphrases") or []) if isinstance(p, str) and p.strip() and p != test.texts[k]]
        if not options:
            continue
        words = _words(test.texts[k])

        def shared(p):
            other = _words(p)
            return sum(min(words.count(w), other.count(w)) for w in set(other)) - abs(len(other) - len(words))

        if kind == "paraphrase":
            choice = min(options, key=shared)
        else:
            exact = [p for p in options if sorted(_words(p)) == sorted(words)]
            choice = exact[0] if exact else max(options, key=shared)
        items.append(k)
        texts.append(choice)
    return items, texts


def run_robustness(scorer, root, out_dir=None, kind: str = "reorder", seed: int = 0) -> dict:
    """Original vs rewritten references: reference signing, and the best system with baselines."""
    session = _session(scorer, root, seed)
    test = session.test
    items, rewritten = _rewrites(test, kind)
    if len(items) < 2:
        raise InputError(session.root / "manifest.jsonl", "fewer than 2 items have paraphrases")
    poses = [test.poses[k] for k in items]
    originals = [test.texts[k] for k in items]
    series = {"SiLVERScore": (session.score(poses, originals), session.score(poses, rewritten))}
    best = session.best_system()
    if best is not None:
        by_id = {i: r for r, i in enumerate(best.ids)}
        keep = [n for n, k in enumerate(items) if test.ids[k] in by_id]
        if len(keep) >= 2:
            rows = [by_id[test.ids[items[n]]] for n in keep]
            gen = [best.poses[r] for r in rows]
            bt = [best.signed_texts[r] for r in rows]
            orig = [originals[n] for n in keep]
            rew = [rewritten[n] for n in keep]
            series[f"SiLVERScore [{best.name}]"] = (session.score(gen, orig), session.score(gen, rew))
            a, b = text_baselines(bt, orig, session.rouge_variant, session.tokenize), text_baselines(bt, rew, session.rouge_variant, session.tokenize)
            for metric in a:
                series[f"{metric} (oracle BT) [{best.name}]"] = (a[metric], b[metric])
    extra = {"n": len(items), "best_system": best.name if best else None,
             "examples": [{"original": o, "rewritten": r} for o, r in list(zip(originals, rewritten))[:3]]}
    return experiments.robustness_experiment(series, _signature(session, kind), out_dir=out_dir, name=kind, extra=extra)


def run_prosody(scorer, root, out_dir=None, seed: int = 0) -> dict:
    """Correct-pair SiLVERScore by intensity; random-pair scores too, as a no-signal control."""
    session = _session(scorer, root, seed)
    test = session.test
    groups = [str(g) if g is not None else "none" for g in test.field("intensity")]
    if len(set(groups)) < 2:
        raise InputError(session.root / "manifest.jsonl", "needs items of at least two intensity levels")
    correct = session.score(test.poses, test.texts)
    pairs = draw_random_pairs(len(test.ids), session.seed)
    random = session.score([test.poses[i] for i, _ in pairs], [test.texts[j] for _, j in pairs])
    random_groups = [groups[i] for i, _ in pairs]  # the video's intensity
    series = {"SiLVERScore": (correct, groups), "SiLVERScore (random pairs)": (random, random_groups)}
    return experiments.prosody_experiment(series, _signature(session, "prosody"), out_dir=out_dir,
                                          order=INTENSITY_ORDER, extra={"n": len(test.ids)})


def run_hard_negatives(scorer, root, out_dir=None, seed: int = 0) -> dict:
    """S(correct video_k, text_k) vs S(hard-negative video of k, text_k) per set.

    Also the text-side variant S(video_k, hard-negative text) and the oracle text baselines
    (back-translation of the hard negative = the sentence it signs; of the correct video = the
    reference itself).
    """
    session = _session(scorer, root, seed)
    test = session.test
    sets = load_hard_negatives(session.root)
    if not sets:
        raise InputError(session.root / "hard_negatives", "no hard-negative sets in this folder")
    video_correct, video_negative, text_correct, text_negative = {}, {}, {}, {}
    text_metric_sets: dict[str, tuple[dict, dict]] = {}
    for name, rows in sets.items():
        rows = [r for r in rows if str(r["source_id"]) in session.index]
        if len(rows) < 2:
            continue
        src = [session.index[str(r["source_id"])] for r in rows]
        ref_texts = [r["reference_text"] for r in rows]
        correct = session.score([test.poses[k] for k in src], ref_texts)
        video_correct[name] = correct
        video_negative[name] = session.score([r["pose_path"] for r in rows], ref_texts)
        text_correct[name] = correct
        text_negative[name] = session.score([test.poses[k] for k in src], [r["text"] for r in rows])
        oracle_correct = text_baselines(ref_texts, ref_texts, session.rouge_variant, session.tokenize)
        oracle_negative = text_baselines([r["text"] for r in rows], ref_texts, session.rouge_variant, session.tokenize)
        for metric in oracle_correct:
            c, n = text_metric_sets.setdefault(f"{metric} (oracle BT)", ({}, {}))
            c[name], n[name] = oracle_correct[metric], oracle_negative[metric]
    series = {"SiLVERScore": (video_correct, video_negative),
              "SiLVERScore (text side)": (text_correct, text_negative), **text_metric_sets}
    return experiments.hard_negative_experiment(series, _signature(session, "hard_negatives"), out_dir=out_dir,
                                                extra={"sets": list(video_negative)})


def run_ranking(scorer, root, out_dir=None, seed: int = 0, n_boot: int = 1000, n_trials: int = 10000) -> dict:
    """Corpus score of every simulated system against its known quality, for every metric."""
    session = _session(scorer, root, seed)
    systems = load_systems(session.root)
    if len(systems) < 2:
        raise InputError(session.root / "systems", "ranking needs at least two simulated systems")
    common = set(session.test.ids)
    for system in systems:
        common &= set(system.ids)
    ids = [i for i in session.test.ids if i in common]
    if len(ids) < 2:
        raise InputError(session.root / "systems", "the systems share fewer than 2 test items")
    test = session.test
    refs = [test.texts[session.index[i]] for i in ids]
    ref_poses = [test.poses[session.index[i]] for i in ids]
    series: dict[str, dict[str, np.ndarray]] = {}
    for system in tqdm(systems, desc="ranking", unit="system", leave=False, disable=not session.progress):
        by_id = {i: r for r, i in enumerate(system.ids)}
        rows = [by_id[i] for i in ids]
        gen = [system.poses[r] for r in rows]
        series.setdefault("SiLVERScore", {})[system.name] = session.score(gen, refs)
        for metric, values in text_baselines([system.signed_texts[r] for r in rows], refs, session.rouge_variant, session.tokenize).items():
            series.setdefault(f"{metric} (oracle BT)", {})[system.name] = values
        series.setdefault("-DTW-MJE", {})[system.name] = session.dtw(gen, ref_poses)
    quality = {s.name: s.quality for s in systems}
    return experiments.ranking_experiment(series, quality, _signature(session, "ranking"), out_dir=out_dir,
                                          n_boot=n_boot, n_trials=n_trials, seed=session.seed,
                                          extra={"n_items": len(ids)})


def run_correlation(scorer, root, out_dir=None, seed: int = 0, n_boot: int = 1000) -> dict | None:
    """Per-item metric scores vs the systems' per-item ``quality`` (a simulated human rating)."""
    session = _session(scorer, root, seed)
    systems = load_systems(session.root)
    test = session.test
    gen, bt, refs, ratings = [], [], [], []
    for system in systems:
        for r, item in enumerate(system.ids):
            if item in session.index and system.item_quality[r] is not None:
                gen.append(system.poses[r])
                bt.append(system.signed_texts[r])
                refs.append(test.texts[session.index[item]])
                ratings.append(system.item_quality[r])
    if len(ratings) < 3 or np.ptp(ratings) == 0:
        return None
    human = np.asarray(ratings, dtype=np.float64)
    series = {"SiLVERScore": (session.score(gen, refs), human)}
    for metric, values in text_baselines(bt, refs, session.rouge_variant, session.tokenize).items():
        series[f"{metric} (oracle BT)"] = (values, human)
    return experiments.correlation_experiment(series, _signature(session, "correlation", boot=n_boot), out_dir=out_dir,
                                              n_boot=n_boot, seed=session.seed,
                                              extra={"human": "per-item simulated quality of the systems' outputs"})


def run_generalization(scorers: Mapping[str, object], root, out_dir=None, seed: int = 0) -> dict:
    """AUC of each model (row) on each synthetic signer group (column), pairs drawn within groups."""
    root = Path(root)
    cells, own = {}, {}
    signatures = []
    for name, scorer in scorers.items():
        session = _session(scorer, root, seed)
        test = session.test
        signers = [str(s) if s is not None else "all" for s in test.field("signer")]
        groups = {g: [k for k, s in enumerate(signers) if s == g] for g in sorted(set(signers))}
        for group, members in groups.items():
            if len(members) < 2:
                continue
            pairs = draw_random_pairs(len(members), session.seed)
            poses = [test.poses[k] for k in members]
            texts = [test.texts[k] for k in members]
            cells[(name, f"signer {group}")] = (
                session.score(poses, texts),
                session.score([poses[i] for i, _ in pairs], [texts[j] for _, j in pairs]))
            own[(name, f"signer {group}")] = own_pair_mask(pairs)
        signatures.append(session.signature)
    if not cells:
        raise InputError(root / "manifest.jsonl", "no signer group with at least 2 items")
    signature = " ; ".join(signatures) + f"|meta:generalization|data:{root.name}|seed:{seed}|bins:50"
    return experiments.generalization_experiment(cells, signature, out_dir=out_dir, own=own)


def run_all(scorer, root, out_dir, seed: int = 0, paper_dir=None, extra_scorers: Mapping[str, object] | None = None) -> dict:
    """Every experiment on one synthetic folder, then ``report.md``; returns a summary.

    ``paper_dir``: the authors' released scores to add the paper section (default: ../shared/paper
    when present; ``False``: leave it out). Experiments whose data the folder lacks (no systems,
    no hard negatives) are listed as skipped, the rest still run.
    """
    out_dir = Path(out_dir)
    session = _session(scorer, root, seed)
    summary: dict = {"signature": session.signature, "out": str(out_dir), "experiments": {}}
    steps = [
        ("discrimination", lambda: run_discrimination(session, root, out_dir,
                                                      save_pairs_to=out_dir / "random_pairs.json")),
        ("reorder", lambda: run_robustness(session, root, out_dir, kind="reorder")),
        ("paraphrase", lambda: run_robustness(session, root, out_dir, kind="paraphrase")),
        ("prosody", lambda: run_prosody(session, root, out_dir)),
        ("hard_negatives", lambda: run_hard_negatives(session, root, out_dir)),
        ("ranking", lambda: run_ranking(session, root, out_dir)),
        ("correlation", lambda: run_correlation(session, root, out_dir)),
        ("generalization", lambda: run_generalization({"model": session, **(extra_scorers or {})}, root, out_dir)),
    ]
    if paper_dir is False:  # explicitly: no paper section
        paper_dir = None
    elif paper_dir is None:
        from .paper import paper_dir_default

        candidate = paper_dir_default()
        paper_dir = candidate if (candidate / "bt_score_data.csv").is_file() else None
    if paper_dir is not None:
        steps.insert(0, ("paper", lambda: experiments.paper_experiment(paper_dir, out_dir)))
    for name, step in tqdm(steps, desc="meta all", unit="experiment", leave=False, disable=not session.progress):
        try:
            result = step()
        except InputError as err:  # a folder without e.g. systems skips those experiments
            summary["experiments"][name] = {"skipped": str(err)}
            continue
        if result is None:
            summary["experiments"][name] = {"skipped": "no data for this experiment"}
            continue
        keep = ("auc", "overlap", "own_pairs", "auc_without_own_pairs", "kendall_tau", "kruskal_wallis",
                "max_abs_shift_in_sd")
        brief = {k: result[k] for k in keep if k in result}
        if name == "hard_negatives":
            brief = {s: {"auc": result[s]["auc"]} for s in result.get("sets", [])}
        if name == "correlation":
            brief = {k: result[k]["value"] for k in ("kendall", "spearman", "pearson")}
        if name == "generalization":
            brief = {k: result[k] for k in ("auc", "own_pairs", "auc_without_own_pairs") if k in result}
        summary["experiments"][name] = brief
    summary["report"] = str(assemble_report(out_dir))
    return summary
