"""Frames per second of I3D feature extraction (CPU or CUDA): batched pipeline vs one window per forward.

The baseline is the official package's approach: the plain network (default memory layout), one
16-frame window per forward pass. To be generous to it, its frames are decoded and pre-processed
once (CiCo's dataset re-reads and re-resizes 16 frames for every window). The contenders are
:class:`silverscore.extract.I3DFeatureExtractor`'s two paths: the batched plain network
(``batch_size`` windows per forward, ``channels_last_3d`` layout; the GPU path) and, on CPU, the
shared-window path (:class:`silverscore.models.i3d_sliding.SlidingI3D`: overlapping windows
share the stem, 2-D convolutions on frame-folded maps, Winograd 3×3 convolutions; the CPU
default). All run a random checkpoint of full InceptionI3d size on the same video of synthetic
signing; the features must agree to 1e-5.

At stride 1 a video of T frames has T − 15 windows, so a 200-frame video is 185 forward passes
per configuration (minutes each on a CPU). To stay short and robust on a shared machine, the
benchmark decodes and pre-processes the 200-frame video once (timed), then times ``--windows``
windows per configuration in interleaved rounds (so load from other processes hits every
configuration alike) and reports the median seconds per window and the resulting frames/s for
the whole video (decode time + windows × seconds per window). ``--full`` also runs both
pipelines end to end. ``--device cuda`` runs both on the GPU (TF32 off in both, so the features
are the CPU's; the GPU is synchronised before each clock reading). Usage::

    python benchmarks/bench_i3d.py                                  # batch sizes 1,4,8 + shared windows, 1 thread
    python benchmarks/bench_i3d.py --batch-sizes 1,8 --threads 2 --full
    python benchmarks/bench_i3d.py --device cuda --batch-sizes 1,8,16,32 --windows 185 --full
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def write_video(path: Path, frames: int, size: int = 360) -> Path:
    """Synthetic signing (the project's synthetic language) rendered as a ``size``² H.264 video."""
    from silverscore.synth import generate_corpus, render_video

    items = generate_corpus(1 + frames // 80, seed=0, split="test")
    pose = np.concatenate([item.pose for item in items])[:frames]
    confidence = np.concatenate([item.confidence for item in items])[:frames]
    if len(pose) < frames:
        raise SystemExit(f"the synthetic corpus gave only {len(pose)} frames")
    render_video(pose, confidence, path, size=size)
    return path


def random_model(seed: int = 0):
    """Full-size InceptionI3d with activations of order 1 (so the 1e-5 check is meaningful)."""
    from silverscore.models.i3d import InceptionI3d

    torch.manual_seed(seed)
    model = InceptionI3d()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("conv3d.weight"):
                tensor.normal_(0.0, math.sqrt(2.0 / tensor[0].numel()))
            elif name.endswith("running_var"):
                tensor.uniform_(0.8, 1.25)
    return model.eval()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def one_window_runner(model, device: torch.device):
    """The official approach's forward: one window, moved to the device, result back on the CPU."""
    from silverscore.extract import full_fp32_convolutions

    def run(clip: torch.Tensor) -> torch.Tensor:
        with full_fp32_convolutions(device):
            return model(clip.to(device)).float().cpu()
    return run


def baseline_features(model, video: Path, device: torch.device) -> tuple[np.ndarray, float]:
    """Official approach: decode + pre-process once, then one window per forward pass."""
    from silverscore.extract import window_starts
    from silverscore.inputs.video import preprocess, read_video_frames

    run = one_window_runner(model, device)
    start = time.perf_counter()
    frames = preprocess(read_video_frames(video))
    rows = []
    with torch.inference_mode():
        for s in window_starts(len(frames), 1):
            clip = frames[s:s + 16].permute(1, 0, 2, 3)[None]  # 1 × 3 × 16 × 224 × 224
            rows.append(run(clip)[0])
    return torch.stack(rows).numpy(), time.perf_counter() - start


def per_window_seconds(run, clips: torch.Tensor, batch_size: int, device: torch.device) -> float:
    """Seconds per window of ``run`` over ``clips`` in batches of ``batch_size``."""
    synchronize(device)
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(clips), batch_size):
            run(clips[i:i + batch_size])
    synchronize(device)
    return (time.perf_counter() - start) / len(clips)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=200, help="video length for the frames/s figures (default 200)")
    parser.add_argument("--windows", type=int, default=8, help="windows timed per configuration and round (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds; medians are reported (default 3)")
    parser.add_argument("--batch-sizes", default="1,4,8", help="comma-separated batch sizes to time")
    parser.add_argument("--shared-batches", default="1",
                        help="comma-separated trunk batches of the shared-window path (CPU only; '' to skip)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--full", action="store_true", help="also run both pipelines end to end on the whole video")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="let cuDNN time its algorithms (faster, but the choice may vary between runs)")
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    from silverscore.extract import I3DFeatureExtractor, window_starts
    from silverscore.inputs.video import preprocess, read_video_frames

    model = random_model()
    plain = random_model().to(device)  # same weights, kept in the default layout for the baseline
    baseline = one_window_runner(plain, device)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    extractors = {b: I3DFeatureExtractor(model, batch_size=b, device=device, share_windows=False) for b in batch_sizes}
    shared_batches = [int(b) for b in args.shared_batches.split(",") if b] if device.type == "cpu" else []
    shared = {b: I3DFeatureExtractor(model, batch_size=b, device=device, share_windows=True) for b in shared_batches}
    with tempfile.TemporaryDirectory() as tmp:
        video = write_video(Path(tmp) / "bench.mp4", args.frames)
        windows = len(window_starts(args.frames, 1))
        where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} CPU thread(s)"
        print(f"video: {args.frames} frames 360x360 (synthetic signing) -> {windows} windows at stride 1; torch {torch.__version__}, "
              f"{where}")

        start = time.perf_counter()
        frames = preprocess(read_video_frames(video))
        decode_seconds = time.perf_counter() - start
        clips = torch.stack([frames[s:s + 16].permute(1, 0, 2, 3) for s in range(args.windows)])

        # Equal features on the timed windows: batched pipeline vs one window per forward.
        with torch.inference_mode():
            reference = torch.cat([baseline(clips[i:i + 1]) for i in range(len(clips))]).numpy()
        for b, extractor in extractors.items():
            got = torch.cat([extractor.features_of_clips(clips[i:i + b]) for i in range(0, len(clips), b)]).numpy()
            diff = float(np.abs(got - reference).max())
            print(f"  batch {b}: max |feature difference| vs one window per forward = {diff:.1e} "
                  f"({'equal' if diff <= 1e-5 else 'DIFFERENT'})")
        windows_list = [(s, list(frames[s:s + 16])) for s in range(args.windows)]
        for b, extractor in shared.items():
            got = torch.cat(list(extractor.shared_window_features(windows_list))).numpy()
            diff = float(np.abs(got - reference).max())
            print(f"  shared windows, trunk batch {b}: max |feature difference| vs one window per forward = {diff:.1e} "
                  f"({'equal' if diff <= 1e-5 else 'DIFFERENT'})")

        # Interleaved rounds, so that load from other processes hits every configuration alike.
        timings: dict[str, list[float]] = {"baseline": [], **{f"batch {b}": [] for b in batch_sizes},
                                           **{f"shared {b}": [] for b in shared_batches}}
        # Warm-up of every configuration, the baseline too (cuDNN picks its algorithms per shape).
        per_window_seconds(baseline, clips[:1], 1, device)
        for b, extractor in extractors.items():
            per_window_seconds(extractor.features_of_clips, clips[:b], b, device)
        for _ in range(args.rounds):
            timings["baseline"].append(per_window_seconds(baseline, clips, 1, device))
            for b, extractor in extractors.items():
                timings[f"batch {b}"].append(per_window_seconds(extractor.features_of_clips, clips, b, device))
            for b, extractor in shared.items():
                # A fresh stem each round: the first window's 16 frames are convolved inside the
                # timing, as at the start of every video.
                start = time.perf_counter()
                for _ in extractor.shared_window_features(windows_list):
                    pass
                timings[f"shared {b}"].append((time.perf_counter() - start) / len(windows_list))

        base = float(np.median(timings["baseline"]))
        print(f"decode + pre-process once: {decode_seconds:.1f} s for {args.frames} frames")
        for name, values in timings.items():
            per_window = float(np.median(values))
            seconds = decode_seconds + windows * per_window
            label = ("one window per forward (official)" if name == "baseline" else
                     f"shared windows, trunk batch {name.split()[1]}" if name.startswith("shared")
                     else f"batched pipeline, {name}")
            print(f"{label:36s} {per_window * 1000:9.2f} ms/window  -> {args.frames / seconds:7.2f} frames/s "
                  f"for a {args.frames}-frame video  speed-up {base / per_window:4.2f}x  "
                  f"(rounds, ms: {', '.join(f'{v * 1000:.2f}' for v in values)})")

        if args.full:
            reference, base_seconds = baseline_features(plain, video, device)
            print(f"end to end, one window per forward: {base_seconds:7.1f} s  {args.frames / base_seconds:5.2f} frames/s")
            for name, extractor in [*((f"batch {b}", e) for b, e in extractors.items()),
                                    *((f"shared windows, trunk batch {b}", e) for b, e in shared.items())]:
                start = time.perf_counter()
                features = extractor.video_features(video)
                synchronize(device)
                seconds = time.perf_counter() - start
                print(f"end to end, {name}: {seconds:7.1f} s  {args.frames / seconds:5.2f} frames/s  "
                      f"speed-up {base_seconds / seconds:4.2f}x  max |diff| {float(np.abs(features - reference).max()):.1e}")


if __name__ == "__main__":
    main()
