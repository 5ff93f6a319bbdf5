"""The reference-style pipeline: the authors' way of running the three models on one video.

Re-implemented from their ``scripts/YouTube8M/compute_predictions.fragment.dense_optical_flow.
no_resize.py`` (github.com/ciaua/InstrumentPlayingDetection), with the same parameters and weights
as ``ipd detect`` so that the two must give the same outputs:

1. every frame of the video is decoded and converted to RGB in order (moviepy's ``iter_frames``
   reads the whole stream through an RGB pipe); the frames on the 7.8125-fps flow grid are resized
   and kept, all of them, in memory (``np.stack(list(vid.iter_frames(fps)))``);
2. the frame sequence is padded by repeating its edges, and for **each** analysis frame the 5 flows
   of its stack are computed from scratch with the paper's Farneback parameters (neighbouring
   stacks share four flows; the authors recomputed them), clipped to [-128, 127]; all stacks are
   kept in memory (``np.stack(stacked_flow_list)``);
3. the action and object networks run on one frame at a time (batch 1), the sound network once
   on the log-mel maps of the whole track, decoded into memory.

Deliberate departures, so that outputs can be compared: gray frames use ``COLOR_RGB2GRAY`` (the
authors passed moviepy's RGB frames to ``COLOR_BGR2GRAY``); frames are sampled and resized as
:mod:`ipd.features.video` does (last frame with timestamp <= t; ``INTER_AREA``), not by moviepy;
the flow between a frame and its own padding copy is zero, as SPEC 3 defines it (Farneback on two
identical frames returns up to ~1.7 px of noise in flat regions, which moved the first and last
maps by 3e-4); the whole video is one clip (the authors cut 5-s fragments, padding each).

Run by ``bench.run`` in a fresh process (its peak memory is the process's own)::

    python -m bench.reference VIDEO MODELS_DIR OUT.npz [--features-only]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ipd import timebase
from ipd.detect.models import load_detector
from ipd.features.audio import load_audio, multiscale_logmel
from ipd.features.params import FARNEBACK, FLOW_CLIP
from ipd.features.video import TIME_TOLERANCE, open_video, resize, resized_shape


def decode_sampled(path: Path, size: int) -> tuple[np.ndarray, int]:
    """Step 1: every frame decoded and converted; the flow-grid frames kept, resized.

    Returns:
        ``(frames (n, H, W, 3) uint8, T)``: the ``n = min(in video, 4T)`` gray-grid frames and
        the number of analysis frames.
    """
    import av

    _, info = open_video(path)
    num = timebase.num_analysis_frames(info.duration)
    in_video = math.ceil(round(info.duration / timebase.FLOW_PERIOD, 9))
    times = timebase.flow_times(min(in_video, timebase.FLOW_FACTOR * num))
    shape = resized_shape(info.height, info.width, size)
    kept, j, shown = [], 0, None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")  # every frame, as moviepy's RGB pipe
            while j < len(times) and frame.time > times[j] + TIME_TOLERANCE:
                kept.append(resize(shown if shown is not None else rgb, shape))
                j += 1
            shown = rgb
    while j < len(times):
        kept.append(resize(shown, shape))
        j += 1
    return np.stack(kept), num


def flow_stacks(frames: np.ndarray, num: int) -> np.ndarray:
    """Step 2: ``(T, 10, H, W)`` float32 stacks, each from 6 frames and 5 fresh flows.

    Stack ``k`` holds flows ``j = 4k-2 .. 4k+2`` (gray frame ``j`` to ``j + 1``); frames before the
    first and after the last sampled one repeat it ('edge' padding).
    """
    edge = timebase.FLOWS_PER_STACK // 2
    after = max(0, timebase.FLOW_FACTOR * num + edge + 1 - len(frames))
    padded = np.pad(frames, ((edge, after), (0, 0), (0, 0), (0, 0)), mode="edge")
    source = np.clip(np.arange(len(padded)) - edge, 0, len(frames) - 1)  # frame of each pad slot
    args = tuple(FARNEBACK.values())
    zero = np.zeros((*frames.shape[1:3], 2), dtype=np.float32)
    stacks = []
    for k in range(num):
        first = timebase.FLOW_FACTOR * k
        sub = padded[first : first + 6]
        flows = []
        for m, (a, b) in enumerate(zip(sub[:-1], sub[1:], strict=True)):
            if source[first + m] == source[first + m + 1]:  # a frame and its padding copy
                flows.append(zero)
                continue
            gray_a = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
            gray_b = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
            flows.append(cv2.calcOpticalFlowFarneback(gray_a, gray_b, None, *args))
        stack = np.stack(flows).transpose(0, 3, 1, 2)  # (5, 2, H, W)
        stacks.append(stack.reshape(-1, *stack.shape[2:]))
    return np.clip(np.stack(stacks), *FLOW_CLIP).astype(np.float32)


@torch.no_grad()
def run(video: Path, models: Path, features_only: bool = False) -> dict[str, np.ndarray]:
    """The three models' outputs for ``video`` (``models``: ``bench.models.write_models``).

    Returns:
        ``{"action": (T, G, h, w), "object": (T, G, h, w), "sound": (T', G)}`` float32 (only
        the flow stacks' shape with ``features_only``).
    """
    detector = load_detector(
        original_action=models / "action.torch",
        original_object=models / "object.torch",
        original_sound=models / "sound.torch",
        scalers=models / "scalers",
    )
    frames, num = decode_sampled(video, detector.params.size)
    stacks = flow_stacks(frames, num)
    if features_only:
        return {"flow_shape": np.array(stacks.shape)}
    action = [detector.action.maps(torch.from_numpy(s[None])).numpy() for s in stacks]
    rgb = frames[:: timebase.FLOW_FACTOR][:num].transpose(0, 3, 1, 2).astype(np.float32)
    objects = [detector.object.maps(torch.from_numpy(x[None])).numpy() for x in rgb]
    mels = multiscale_logmel(load_audio(video), detector.params.windows)
    inputs = [torch.from_numpy(mels[w].T.copy())[None] for w in detector.params.windows]
    sound, _ = detector.sound(inputs)
    return {
        "action": np.concatenate(action),
        "object": np.concatenate(objects),
        "sound": sound[0].T.contiguous().numpy(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("models", type=Path, help="folder written by bench.models.write_models")
    parser.add_argument("out", type=Path, help=".npz of the outputs")
    parser.add_argument("--features-only", action="store_true", help="decode and flow only")
    args = parser.parse_args()
    start = time.perf_counter()
    outputs = run(args.video, args.models, args.features_only)
    seconds = time.perf_counter() - start
    np.savez(args.out, **outputs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    main()
