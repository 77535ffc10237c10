// The CPU backend: the kernels of cuda/camera_model.h, depth_model.h and yuv.h run over rows of the batch on
// `threads` threads started for the call and joined before it returns. Every output element is a pure
// function of the input and the constants, so which thread computes it changes nothing.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "cuda/camera_model.h"
#include "cuda/depth_model.h"
#include "cuda/sensor_backend.h"
#include "cuda/yuv.h"

namespace r2s::cuda::backend {
namespace {

// Calls body(i) for i in [0, n), handing out chunks of `grain` indices to up to `threads` threads (the
// caller's included) that take the next chunk when done with theirs.
template <typename Body>
void ParallelFor(std::int64_t n, int threads, std::int64_t grain, const Body& body) {
  if (n <= 0) return;
  const std::int64_t chunks = (n + grain - 1) / grain;
  const int workers = static_cast<int>(std::min<std::int64_t>(threads, chunks));
  std::atomic<std::int64_t> next{0};
  auto work = [&] {
    for (;;) {
      const std::int64_t begin = next.fetch_add(grain, std::memory_order_relaxed);
      if (begin >= n) return;
      const std::int64_t end = std::min(n, begin + grain);
      for (std::int64_t i = begin; i < end; ++i) body(i);
    }
  };
  std::vector<std::jthread> pool;
  pool.reserve(workers > 0 ? workers - 1 : 0);
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
}

// Row chunks of about 16k pixels: enough work per chunk to amortize the hand-out, enough chunks to balance.
std::int64_t RowGrain(int width) { return std::max<std::int64_t>(1, 16384 / std::max(1, width)); }

}  // namespace

void CameraCpu(RgbBatch batch, const CameraPlan& plan, int threads) {
  const SensorTables& tables = Tables();
  const int w = batch.width;
  const int h = batch.height;
  const std::int64_t frame_px = static_cast<std::int64_t>(w) * h;
  const std::int64_t rows = static_cast<std::int64_t>(batch.frames) * h;
  const std::int64_t grain = RowGrain(w);

  if (!plan.any_blur && !plan.any_motion && !plan.any_jpeg) {  // one pass, uint8 to uint8
    ParallelFor(rows, threads, grain, [&](std::int64_t r) {
      const int f = static_cast<int>(r / h);
      const int y = static_cast<int>(r % h);
      const CameraFrameConstants& c = plan.frames[f];
      std::uint8_t* px = batch.data + r * w * 3;
      for (int x = 0; x < w; ++x, px += 3) {
        const Rgbf out = CameraPointwise(Linearize(px, c), x, y, w, h, static_cast<std::uint32_t>(y * w + x),
                                         plan.first_frame + f, plan.key, c, tables.normal);
        px[0] = RoundToU8(out.r);
        px[1] = RoundToU8(out.g);
        px[2] = RoundToU8(out.b);
      }
    });
    return;
  }

  // Linear float RGB in `a`; the blurs ping-pong between a and b; the frame's current image is src(f). Every
  // element is written before it is read, so the buffers are not zero-filled.
  const std::size_t floats = static_cast<std::size_t>(batch.pixels()) * 3;
  const auto a = std::make_unique_for_overwrite<float[]>(floats);
  const auto b = plan.any_blur || plan.any_motion ? std::make_unique_for_overwrite<float[]>(floats) : nullptr;
  auto frame_of = [&](float* buf, int f) { return buf + f * frame_px * 3; };
  auto src = [&](int f) { return plan.frames[f].motion_taps > 0 ? frame_of(b.get(), f) : frame_of(a.get(), f); };

  ParallelFor(rows, threads, grain, [&](std::int64_t r) {
    const CameraFrameConstants& c = plan.frames[r / h];
    const std::uint8_t* px = batch.data + r * w * 3;
    float* out = a.get() + r * w * 3;
    for (int i = 0; i < 3 * w; ++i) out[i] = c.linearize[px[i]];
  });
  // One neighbourhood pass, row by row: `to` gets sample(from's frame, x, y) for the frames `active` selects.
  auto row_pass = [&](float* from, float* to, auto active, auto sample) {
    ParallelFor(rows, threads, grain, [&](std::int64_t r) {
      const int f = static_cast<int>(r / h);
      const int y = static_cast<int>(r % h);
      const CameraFrameConstants& c = plan.frames[f];
      if (!active(c)) return;
      float* out = frame_of(to, f) + static_cast<std::int64_t>(y) * w * 3;
      for (int x = 0; x < w; ++x) {
        const Rgbf v = sample(frame_of(from, f), x, y, c);
        out[3 * x] = v.r;
        out[3 * x + 1] = v.g;
        out[3 * x + 2] = v.b;
      }
    });
  };
  auto blurred = [](const CameraFrameConstants& c) { return c.blur_radius != 0; };
  auto moving = [](const CameraFrameConstants& c) { return c.motion_taps != 0; };
  if (plan.any_blur) {
    row_pass(a.get(), b.get(), blurred,
             [&](const float* in, int x, int y, const CameraFrameConstants& c) { return GaussianRow(in, w, x, y, c); });
    row_pass(b.get(), a.get(), blurred, [&](const float* in, int x, int y, const CameraFrameConstants& c) {
      return GaussianColumn(in, w, h, x, y, c);
    });
  }
  if (plan.any_motion) {
    row_pass(a.get(), b.get(), moving, [&](const float* in, int x, int y, const CameraFrameConstants& c) {
      return MotionBlur(in, w, h, x, y, c);
    });
  }
  // Pointwise stage; frames that go on to the JPEG-like stage keep float DN in place in src(f).
  ParallelFor(rows, threads, grain, [&](std::int64_t r) {
    const int f = static_cast<int>(r / h);
    const int y = static_cast<int>(r % h);
    const CameraFrameConstants& c = plan.frames[f];
    float* lin = src(f) + static_cast<std::int64_t>(y) * w * 3;
    std::uint8_t* px = batch.data + r * w * 3;
    for (int x = 0; x < w; ++x) {
      const Rgbf out =
          CameraPointwise(Rgbf{lin[3 * x], lin[3 * x + 1], lin[3 * x + 2]}, x, y, w, h,
                          static_cast<std::uint32_t>(y * w + x), plan.first_frame + f, plan.key, c, tables.normal);
      if (c.jpeg_on) {
        lin[3 * x] = out.r;
        lin[3 * x + 1] = out.g;
        lin[3 * x + 2] = out.b;
      } else {
        px[3 * x] = RoundToU8(out.r);
        px[3 * x + 1] = RoundToU8(out.g);
        px[3 * x + 2] = RoundToU8(out.b);
      }
    }
  });
  if (plan.any_jpeg) {
    const int blocks_x = (w + 7) / 8;
    const int blocks_y = (h + 7) / 8;
    ParallelFor(static_cast<std::int64_t>(batch.frames) * blocks_y, threads, 1, [&](std::int64_t r) {
      const int f = static_cast<int>(r / blocks_y);
      const int by = static_cast<int>(r % blocks_y);
      const CameraFrameConstants& c = plan.frames[f];
      if (!c.jpeg_on) return;
      for (int bx = 0; bx < blocks_x; ++bx) {
        JpegBlock(src(f), batch.data + f * frame_px * 3, w, h, bx, by, c, tables.dct);
      }
    });
  }
}

void DepthCpu(DepthBatch batch, const DepthPlan& plan, int threads) {
  const SensorTables& tables = Tables();
  const int w = batch.width;
  const int h = batch.height;
  const std::int64_t frame_px = static_cast<std::int64_t>(w) * h;
  // Neighbours are read from the input, so the output goes to a copy first.
  const auto out = std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(batch.pixels()));
  ParallelFor(static_cast<std::int64_t>(batch.frames) * h, threads, RowGrain(w), [&](std::int64_t r) {
    const int f = static_cast<int>(r / h);
    const int y = static_cast<int>(r % h);
    const float* frame = batch.data + f * frame_px;
    for (int x = 0; x < w; ++x) {
      out[r * w + x] = DepthPixel(frame, w, h, x, y, static_cast<std::uint32_t>(y * w + x), plan.first_frame + f,
                                  plan.key, plan.frames[f], tables.normal);
    }
  });
  std::copy(out.get(), out.get() + batch.pixels(), batch.data);
}

void Yuv420Cpu(RgbBatch in, Yuv420Batch out, int threads) {
  const int w = in.width;
  const int h = in.height;
  const std::int64_t frame_px = static_cast<std::int64_t>(w) * h;
  const std::int64_t chroma_rows = static_cast<std::int64_t>(in.frames) * (h / 2);
  ParallelFor(chroma_rows, threads, RowGrain(w) / 2 + 1, [&](std::int64_t r) {
    const int f = static_cast<int>(r / (h / 2));
    const int cy = static_cast<int>(r % (h / 2));
    const std::uint8_t* rgb = in.data + f * frame_px * 3;
    std::uint8_t* y = out.y + f * frame_px;
    std::uint8_t* u = out.u + f * (frame_px / 4);
    std::uint8_t* v = out.v + f * (frame_px / 4);
    for (int cx = 0; cx < w / 2; ++cx) Yuv420Block(rgb, w, cx, cy, y, u, v);
  });
}

}  // namespace r2s::cuda::backend
