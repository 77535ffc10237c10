"""The peer of bench/video_bench.cc: LeRobot's own video encoder and its PyAV decoding path on the same frames.

    python lerobot_video_peer.py --video FILE.mp4 --frames N --repeats R --out DIR

Runs in the `clients` environment (scripts/setup_python_env.sh clients: lerobot 0.4.4, PyAV 15.1.0). Prints one
JSON object shaped like video_bench's: per repeat, [wall_s, cpu_s] of
  encode_av1_lerobot   lerobot.datasets.video_utils.encode_video_frames from the PNG frames LeRobot's recorder
                       writes (its real pipeline: PNG decode + RGB->YUV + SVT-AV1), libsvtav1 crf 30 g 2 preset 12
                       (its defaults), encoder_threads=1
  encode_av1_memory    the same PyAV encode loop fed from frames in memory (the encoder alone), one thread
  encode_h264_lerobot  encode_video_frames with vcodec "h264", encoder_threads=1
  decode_all           lerobot.datasets.video_utils.decode_video_frames(..., backend="pyav") for every frame
  decode_random50      50 single-frame decode_video_frames calls at the timestamps video_bench reads
"""
import argparse
import json
import os
import time

import av
import numpy as np
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from lerobot.datasets.video_utils import decode_video_frames, encode_video_frames  # noqa: E402


def timed(f):
    wall0, cpu0 = time.perf_counter(), time.process_time()
    f()
    return [time.perf_counter() - wall0, time.process_time() - cpu0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--video", required=True)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    with av.open(args.video) as container:
        stream = container.streams.video[0]
        total = stream.frames
        frames = []
        for frame in container.decode(stream):
            if len(frames) < args.frames:
                frames.append(frame.to_ndarray(format="rgb24"))
        total = total or len(frames)
    with av.open(args.video) as container:
        total = sum(1 for _ in container.demux(container.streams.video[0]) if _.size)
    height, width = frames[0].shape[:2]
    png_dir = os.path.join(args.out, "frames")
    os.makedirs(png_dir, exist_ok=True)
    for i, f in enumerate(frames):
        # compress_level 1: what LeRobot's recorder uses for frames bound for video.
        Image.fromarray(f).save(os.path.join(png_dir, f"frame-{i:06d}.png"), compress_level=1)

    def encode_memory():
        with av.open(os.path.join(args.out, "py_mem.mp4"), "w") as output:
            stream = output.add_stream("libsvtav1", 30, options={"g": "2", "crf": "30", "preset": "12",
                                                                 "svtav1-params": "lp=1"})
            stream.pix_fmt = "yuv420p"
            stream.width, stream.height = width, height
            for f in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                    output.mux(packet)
            for packet in stream.encode():
                output.mux(packet)

    timestamps = [i / 30 for i in range(total)]
    runs = []
    for _ in range(args.repeats):
        run = {
            "encode_av1_lerobot": timed(lambda: encode_video_frames(
                png_dir, os.path.join(args.out, "lr_av1.mp4"), 30, vcodec="libsvtav1", overwrite=True,
                encoder_threads=1)),
            "encode_av1_memory": timed(encode_memory),
            "encode_h264_lerobot": timed(lambda: encode_video_frames(
                png_dir, os.path.join(args.out, "lr_h264.mp4"), 30, vcodec="h264", overwrite=True,
                encoder_threads=1)),
            "decode_all": timed(lambda: decode_video_frames(args.video, timestamps, 1e-4, backend="pyav")),
            "decode_random50": timed(lambda: [
                decode_video_frames(args.video, [timestamps[((k * 37) % 50) * (total - 1) // 49]], 1e-4,
                                    backend="pyav") for k in range(50)]),
            "av1_bytes": os.path.getsize(os.path.join(args.out, "lr_av1.mp4")),
        }
        runs.append(run)
    print(json.dumps({"width": width, "height": height, "frames": len(frames), "source_frames": total,
                      "pyav": av.__version__, "runs": runs}))


if __name__ == "__main__":
    main()
