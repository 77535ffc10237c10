"""The sensor models' peer: the same camera and depth effects as cuda/camera_model.h and depth_model.h, written
as a user would with OpenCV and NumPy (one call per effect over whole frames), on the frames sensor_bench uses
(16 x 640x480: the same synthetic texture, the same tilted stepped depth) and with the same parameters
(sensor_bench.cc's FullCamera, NoiseOnlyCamera and Depth). One thread: cv2.setNumThreads(1), and the runner sets
OMP/OPENBLAS threads to 1. Prints JSON: CPU ms per frame (process time over the loop), median of --repeats.

Not bit-compatible with real2sim (OpenCV's JPEG is libjpeg's, its noise is its own RNG): comparable work per
pixel, the way a pipeline without real2sim would do it.
"""

import argparse
import json
import math
import statistics
import time

import cv2
import numpy as np

FRAMES, HEIGHT, WIDTH = 16, 480, 640


def rgb_frames():
    i = np.arange(FRAMES * HEIGHT * WIDTH * 3, dtype=np.uint64)
    return ((i * 2654435761) % (1 << 32) >> 24).astype(np.uint8).reshape(FRAMES, HEIGHT, WIDTH, 3)


def depth_frames():
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    z = 0.8 + 0.002 * x + 0.001 * y + np.where(((x // 80 + y // 80) % 2) == 1, 0.5, 0.0).astype(np.float32)
    return np.repeat(z[None], FRAMES, axis=0).astype(np.float32)


class Camera:
    """sRGB decode, Gaussian blur, motion blur, exposure and white balance, vignetting, shot + read noise, colour
    jitter (brightness, contrast, saturation, hue as one 3x3 matrix), sRGB encode, JPEG round trip."""

    def __init__(self, full):
        self.full = full
        v = np.arange(256, dtype=np.float64) / 255.0
        self.decode = (np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4) * 255.0).astype(np.float32)
        self.exposure, self.shot_gain, self.read_std = (1.2, 0.4, 1.5) if full else (1.0, 0.4, 1.5)
        angle, length = 0.4, 3.0
        k = np.zeros((7, 7), np.float32)
        for t in np.linspace(-length / 2, length / 2, 7):
            k[int(round(3 + t * math.sin(angle))), int(round(3 + t * math.cos(angle)))] += 1
        self.motion = k / k.sum()
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        r2 = ((xx - WIDTH / 2) ** 2 + (yy - HEIGHT / 2) ** 2) / ((WIDTH / 2) ** 2 + (HEIGHT / 2) ** 2)
        self.vignette = np.repeat((1.0 - 0.3 * r2)[..., None], 3, axis=2).astype(np.float32)
        wb = np.diag([1.05, 1.0, 0.95]) * self.exposure
        h, s, b, c = 0.1, 1.1, 1.05, 0.95
        cos, sin = math.cos(h), math.sin(h)
        hue = np.array([  # rotation about the grey axis in YIQ
            [0.299 + 0.701 * cos + 0.168 * sin, 0.587 - 0.587 * cos + 0.330 * sin, 0.114 - 0.114 * cos - 0.497 * sin],
            [0.299 - 0.299 * cos - 0.328 * sin, 0.587 + 0.413 * cos + 0.035 * sin, 0.114 - 0.114 * cos + 0.292 * sin],
            [0.299 - 0.300 * cos + 1.250 * sin, 0.587 - 0.588 * cos - 1.050 * sin, 0.114 + 0.886 * cos - 0.203 * sin]])
        grey = np.array([0.299, 0.587, 0.114])
        sat = s * np.eye(3) + (1 - s) * np.outer(np.ones(3), grey)
        self.colour = (b * c * hue @ sat @ wb).astype(np.float32)
        self.noise = np.empty((HEIGHT, WIDTH, 3), np.float32)

    def __call__(self, frame):
        lin = cv2.LUT(frame, self.decode)
        if self.full:
            lin = cv2.GaussianBlur(lin, (0, 0), 1.0)
            lin = cv2.filter2D(lin, -1, self.motion)
            lin = cv2.transform(lin, self.colour)
            lin = cv2.multiply(lin, self.vignette)
        # NumPy for max and pow: cv2.max(array, scalar) and cv2.pow cost 10-30x more here (measured), and a
        # peer should be the faster of the obvious ways.
        std = cv2.sqrt(np.maximum(lin, np.float32(0)) * np.float32(self.shot_gain) + np.float32(self.read_std ** 2))
        cv2.randn(self.noise, 0.0, 1.0)
        lin = lin + std * self.noise
        out = np.power(np.maximum(lin, np.float32(0)) * np.float32(1.0 / 255.0), np.float32(1.0 / 2.4))
        out = cv2.convertScaleAbs(out, alpha=255.0)
        if self.full:
            ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 75])
            out = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        return out


class Depth:
    """Depth noise growing with range, disparity quantization, dropout at depth jumps and grazing incidence,
    range limit."""

    def __init__(self):
        self.noise = np.empty((HEIGHT, WIDTH), np.float32)
        self.kernel = np.ones((3, 3), np.uint8)

    def __call__(self, z):
        cv2.randn(self.noise, 0.0, 1.0)
        noisy = z + (0.001 + 0.002 * z * z) * self.noise
        disparity = 600.0 * 0.05 / noisy                       # fx * baseline / z
        noisy = 600.0 * 0.05 / (np.round(disparity * 8.0) / 8.0)  # quantized in disparity
        jump = cv2.dilate(z, self.kernel) - cv2.erode(z, self.kernel) > 0.1
        gx = cv2.Sobel(z, cv2.CV_32F, 1, 0, ksize=1) * (600.0 / 2.0)
        gy = cv2.Sobel(z, cv2.CV_32F, 0, 1, ksize=1) * (600.0 / 2.0)
        grazing = (gx * gx + gy * gy) / (z * z) > math.tan(1.3) ** 2
        noisy[jump | grazing | (noisy > 4.0)] = 0.0
        return noisy


def ms_per_frame(model, frames, repeats):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        for f in frames:
            model(f)
        times.append((time.process_time() - start) * 1e3 / len(frames))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rgb, z = rgb_frames(), depth_frames()
    result = {
        "opencv": cv2.__version__, "numpy": np.__version__, "threads": cv2.getNumThreads(),
        "camera_full_ms": ms_per_frame(Camera(True), rgb, args.repeats),
        "camera_noise_only_ms": ms_per_frame(Camera(False), rgb, args.repeats),
        "depth_ms": ms_per_frame(Depth(), z, args.repeats),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
