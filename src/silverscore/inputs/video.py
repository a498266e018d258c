"""Reading videos and turning frames into I3D input exactly as CiCo does (spec §3).

Decoding uses PyAV (FFmpeg's libraries, maintained, pip-installable, no system ffmpeg needed);
it is the optional extra ``video`` and is imported only when a video is read. For H.264/yuv420p
input its ``rgb24`` frames are byte-identical to OpenCV's (the decoder CiCo used), which the tests
check when OpenCV is installed.

Pre-processing, per frame (CiCo's CPU path): RGB uint8 → float32 / 255 *before* resizing →
short side to 256 with bilinear interpolation without antialiasing (OpenCV ``INTER_LINEAR``,
coordinates in double precision; the long side is ``int(256 · long / short)``) → integer centre crop 224 (offset
``int((size − 224) / 2)``) → minus 0.5 (no division by a std). Every step is per frame, so frames
can be processed in chunks as they are decoded, and memory stays bounded for long or large videos.

Every problem with a file (missing, not a video, corrupt, no frames, too few frames, a resolution
over the limit) is an :class:`~silverscore.errors.InputError` naming the file, so a corpus run can
report it and go on with the other videos.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..errors import InputError

#: Short side after resizing, and the side of the centre crop (spec §3).
RESIZE_SHORT_SIDE = 256
CROP_SIZE = 224
#: Subtracted after scaling to [0, 1]; BSL-1K normalises with mean 0.5 and std 1.
PIXEL_MEAN = 0.5
#: Largest frame accepted by default (8K UHD, 7680×4320 pixels). A bigger frame is almost
#: certainly a mistake (an image sequence at print resolution, a corrupt header) and would cost
#: gigabytes per chunk; the user gets a clear error and can downscale first.
DEFAULT_MAX_PIXELS = 7680 * 4320
#: Fewest frames accepted by default. One frame is a still image, not signing; CiCo's rule of
#: repeating the last frame would turn it into a motionless clip and a meaningless score.
DEFAULT_MIN_FRAMES = 2
#: Frames pre-processed together (bounded memory, fewer Python round-trips).
CHUNK_FRAMES = 16

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".gif")


def _import_av():
    try:
        import av  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(None, "reading videos needs PyAV: pip install 'silverscore[video]' (or: pip install av)") from None
    return av


def resized_size(height: int, width: int, short_side: int = RESIZE_SHORT_SIDE) -> tuple[int, int]:
    """(height, width) with the short side at ``short_side`` and the long side truncated, as CiCo.

    CiCo computes ``int(256 * long / short)``; integer floor division gives the same number
    without floating point. A square frame becomes 256×256.
    """
    if width > height:
        return short_side, (short_side * width) // height
    return (short_side * height) // width, short_side


def _bilinear_taps(out_size: int, in_size: int, start: int, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source indices and weight of output pixels ``start … start+count−1`` along one axis.

    OpenCV ``INTER_LINEAR``: source coordinate ``(i + 0.5)·in/out − 0.5`` computed in double
    precision, clamped at 0, neighbours clamped at the border. torch's ``interpolate`` computes
    the same coordinate in float32, which is off by up to 2e-5 in pixel value whenever in/out is
    not exactly representable (e.g. 480 → 341); CiCo resized with OpenCV, so we follow OpenCV.
    """
    src = np.maximum((np.arange(start, start + count, dtype=np.float64) + 0.5) * (in_size / out_size) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    hi = np.minimum(lo + 1, in_size - 1)
    weight = (src - lo).astype(np.float32)
    return torch.from_numpy(lo), torch.from_numpy(hi), torch.from_numpy(weight)


def preprocess(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 RGB frames ``T×H×W×3`` → float32 I3D input ``T×3×224×224`` (spec §3, per frame).

    Exactly: /255 in float32, bilinear resize without antialiasing of the short side to 256
    (OpenCV ``INTER_LINEAR``), centre crop 224 at ``int((size − 224) / 2)``, minus 0.5. Only
    the cropped part of the resized frame is computed (the resize is separable and pixel-wise,
    so the values are those of resizing the whole frame and cropping).

    Runs where ``frames`` are: every step is a gather or one correctly rounded float32 operation,
    so a CUDA tensor gives the CPU's values (a GPU spares the CPU the costliest step of a video).
    """
    frames_t = torch.as_tensor(frames)
    if frames_t.ndim != 4 or frames_t.shape[-1] != 3:
        raise ValueError(f"expected frames T x H x W x 3, got shape {tuple(frames_t.shape)}")
    if frames_t.dtype != torch.uint8:
        raise ValueError(f"expected uint8 frames, got {frames_t.dtype}")
    height, width = int(frames_t.shape[1]), int(frames_t.shape[2])
    new_h, new_w = resized_size(height, width)
    top, left = (new_h - CROP_SIZE) // 2, (new_w - CROP_SIZE) // 2
    y_lo, y_hi, y_w = _bilinear_taps(new_h, height, top, CROP_SIZE)
    x_lo, x_hi, x_w = _bilinear_taps(new_w, width, left, CROP_SIZE)
    # Only the source rows the crop reads (at most 2 per output row) are converted to float: a
    # gather, so no value changes, and less than half the work on a 1080p frame.
    rows = torch.unique(torch.cat([y_lo, y_hi]))
    y_lo, y_hi = torch.searchsorted(rows, y_lo), torch.searchsorted(rows, y_hi)
    device = frames_t.device
    rows, y_lo, y_hi, y_w, x_lo, x_hi, x_w = (t.to(device) for t in (rows, y_lo, y_hi, y_w, x_lo, x_hi, x_w))
    # A 0-dim tensor on the frames' device, not a Python number: CUDA turns division by a CPU
    # scalar into multiplication by its reciprocal (1 ulp off); this way both devices divide.
    scale = torch.full((), 255.0, dtype=torch.float32, device=device)
    x = frames_t.index_select(1, rows).permute(0, 3, 1, 2).to(torch.float32) / scale
    # Horizontal pass first, then vertical, as OpenCV does.
    x = x.index_select(3, x_lo) * (1.0 - x_w) + x.index_select(3, x_hi) * x_w
    y_w = y_w[:, None]
    x = x.index_select(2, y_lo) * (1.0 - y_w) + x.index_select(2, y_hi) * y_w
    return (x - PIXEL_MEAN).contiguous()


def _open_video_stream(path: Path, max_pixels: int):
    av = _import_av()
    if not path.exists():
        raise InputError(path, "video file not found")
    if not path.is_file():
        raise InputError(path, "not a file")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise InputError(path, f"cannot open as a video (corrupt or unsupported container: {_reason(err)})") from None
    try:
        if not container.streams.video:
            raise InputError(path, "has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame-threaded decoding: same frames, faster
        width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        _check_resolution(path, height, width, max_pixels)
    except BaseException:
        container.close()
        raise
    return av, container, stream


def _check_resolution(path: Path, height: int, width: int, max_pixels: int) -> None:
    if height > 0 and width > 0 and height * width > max_pixels:
        raise InputError(
            path,
            f"resolution {width}x{height} is over the limit of {max_pixels} pixels per frame; "
            "downscale the video first (e.g. ffmpeg -i in.mp4 -vf scale=-2:256 out.mp4)",
        )


def _reason(err: BaseException) -> str:
    """FFmpeg's own words (without the errno and the file name the message already starts with)."""
    text = getattr(err, "strerror", None) or (str(err).strip().splitlines()[0] if str(err).strip() else "")
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video's first video stream."""

    fps: float
    width: int
    height: int


def probe_video(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> VideoInfo:
    """Frame rate and size from the container (25 fps when it states none)."""
    path = Path(path)
    _, container, stream = _open_video_stream(path, max_pixels)
    with container:
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 25.0
        return VideoInfo(fps if fps > 0 else 25.0, int(stream.codec_context.width or 0), int(stream.codec_context.height or 0))


def iter_video_frames(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[np.ndarray]:
    """Decode a video one RGB uint8 ``H×W×3`` frame at a time (bounded memory)."""
    path = Path(path)
    av, container, stream = _open_video_stream(path, max_pixels)
    try:
        with container:
            for frame in container.decode(stream):
                if frame.width * frame.height > max_pixels:
                    _check_resolution(path, frame.height, frame.width, max_pixels)
                yield frame.to_ndarray(format="rgb24")
    except InputError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, RuntimeError) as err:
        raise InputError(path, f"decoding failed (corrupt or truncated video: {_reason(err)})") from None


def read_video_frames(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """All frames of a video as uint8 RGB ``T×H×W×3`` (raises InputError on an empty video).

    Holds every full-resolution frame in memory; the extractor streams instead
    (:func:`iter_preprocessed_chunks`).
    """
    frames = list(iter_video_frames(path, max_pixels))
    if not frames:
        raise InputError(path, "has no decodable frames")
    shapes = {frame.shape for frame in frames}
    if len(shapes) > 1:
        raise InputError(path, f"frame size changes inside the video ({sorted(shapes)}); cannot stack the frames")
    return np.stack(frames)


def iter_preprocessed_chunks(path: str | Path, chunk_frames: int = CHUNK_FRAMES,
                             max_pixels: int = DEFAULT_MAX_PIXELS,
                             min_frames: int = DEFAULT_MIN_FRAMES,
                             device: str | torch.device = "cpu") -> Iterator[torch.Tensor]:
    """Decode once and yield pre-processed frames in chunks of ``≤ chunk_frames`` (``t×3×224×224``).

    Chunking does not change any value (pre-processing is per frame). A frame-size change inside
    the stream starts a new chunk. Raises :class:`InputError` when the video has fewer than
    ``min_frames`` frames (after everything decodable was read). With a CUDA ``device`` the
    decoded uint8 frames are moved there and pre-processed there (same values).
    """
    device = torch.device(device)

    def prepared(frames: list[np.ndarray]) -> torch.Tensor:
        return preprocess(torch.from_numpy(np.stack(frames)).to(device))

    pending: list[np.ndarray] = []
    count = 0
    for frame in iter_video_frames(path, max_pixels):
        if pending and frame.shape != pending[0].shape:
            yield prepared(pending)
            pending = []
        pending.append(frame)
        count += 1
        if len(pending) == chunk_frames:
            yield prepared(pending)
            pending = []
    if count < max(min_frames, 1):
        raise InputError(path, "has no decodable frames" if count == 0 else
                         f"has only {count} frame{'s' if count != 1 else ''}; at least {min_frames} are needed")
    if pending:
        yield prepared(pending)


def list_videos(directory: str | Path, suffixes: tuple[str, ...] = VIDEO_SUFFIXES) -> list[Path]:
    """Video files under ``directory`` (recursively), sorted, by suffix (case-insensitive)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, "not a directory of videos")
    found = sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                   and not p.name.startswith("."))
    return found
