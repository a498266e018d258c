"""Frames per second of I3D feature extraction on CPU: batched pipeline vs one window per forward.

The baseline is the official package's approach: the plain network (default memory layout), one
16-frame window per forward pass. To be generous to it, its frames are decoded and pre-processed
once (CiCo's dataset re-reads and re-resizes 16 frames for every window). The contender is
:class:`silverscore.extract.I3DFeatureExtractor`: frames decoded once while windows stream,
``batch_size`` windows per forward, ``channels_last_3d`` layout. Both run a random checkpoint of
full InceptionI3d size on the same synthetic video; the features must agree to 1e-5.

At stride 1 a video of T frames has T − 15 windows, so a full 200-frame video is 185 forward
passes per configuration (minutes on a laptop CPU). By default the benchmark times a video of
``--windows`` windows (``windows + 15`` frames) and reports frames/s of that video; pass
``--frames 200`` for the full length. Usage::

    python benchmarks/bench_i3d.py                       # quick: 24 windows, batch sizes 1,4,8
    python benchmarks/bench_i3d.py --frames 200 --batch-sizes 4 --threads 2
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def write_video(path: Path, frames: int, width: int = 480, height: int = 360) -> Path:
    import av

    rng = np.random.default_rng(0)
    background = rng.integers(0, 120, size=(height, width, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for t in range(frames):
            img = background.copy()
            y, x = (40 + 3 * t) % (height // 2), (50 + 5 * t) % (width // 2)
            img[y:y + height // 3, x:x + width // 4] = (230, (60 + 5 * t) % 256, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
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


def baseline_features(model, video: Path) -> tuple[np.ndarray, float]:
    """Official approach: decode + pre-process once, then one window per forward pass."""
    from silverscore.extract import window_starts
    from silverscore.inputs.video import preprocess, read_video_frames

    start = time.perf_counter()
    frames = preprocess(read_video_frames(video))
    rows = []
    with torch.inference_mode():
        for s in window_starts(len(frames), 1):
            clip = frames[s:s + 16].permute(1, 0, 2, 3)[None]  # 1 × 3 × 16 × 224 × 224
            rows.append(model(clip)[0])
    return torch.stack(rows).numpy(), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=None, help="video length (default: windows + 15)")
    parser.add_argument("--windows", type=int, default=24, help="windows of the quick run (default 24)")
    parser.add_argument("--batch-sizes", default="1,4,8", help="comma-separated batch sizes to time")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    frames = args.frames or args.windows + 15

    from silverscore.extract import I3DFeatureExtractor

    model = random_model()
    with tempfile.TemporaryDirectory() as tmp:
        video = write_video(Path(tmp) / "bench.mp4", frames)
        print(f"video: {frames} frames 480x360, {max(frames - 15, 1)} windows at stride 1; "
              f"torch {torch.__version__}, {args.threads} thread(s)")
        model(torch.zeros(1, 3, 16, 224, 224))  # warm-up (allocator, oneDNN kernels)
        reference, seconds = baseline_features(model, video)
        base_fps = frames / seconds
        print(f"one window per forward (official):  {seconds:7.1f} s  {base_fps:6.2f} frames/s")
        for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
            extractor = I3DFeatureExtractor(model, batch_size=batch_size, device="cpu")
            extractor.features_of_clips(torch.zeros(1, 3, 16, 224, 224))  # warm-up of the layout
            start = time.perf_counter()
            features = extractor.video_features(video)
            seconds = time.perf_counter() - start
            diff = float(np.abs(features - reference).max())
            status = "equal" if diff <= 1e-5 else "DIFFERENT"
            print(f"batched pipeline, batch {batch_size:2d}:        {seconds:7.1f} s  {frames / seconds:6.2f} frames/s"
                  f"  speed-up {base_fps and (frames / seconds) / base_fps:4.2f}x  max |diff| {diff:.1e} ({status})")
            model.to(memory_format=torch.contiguous_format)


if __name__ == "__main__":
    main()
