#pragma once
// Internal (not installed): the step between the public API and the backends, kept out of sensor_backend.h
// because that header is also compiled by nvcc as C++17 and cuda/sensor.h is C++20.

#include <span>

#include "cuda/sensor.h"
#include "cuda/sensor_backend.h"

namespace r2s::cuda::backend {

// What the public entry points hand a backend: the parameters validated (std::invalid_argument as documented in
// cuda/sensor.h) and turned into per-frame constants. Tests use them to run a backend against a reference.
CameraPlan MakeCameraPlan(RgbBatch batch, std::span<const CameraModelParams> per_frame, const NoiseKey& noise);
DepthPlan MakeDepthPlan(DepthBatch batch, std::span<const DepthModelParams> per_frame, const NoiseKey& noise);

}  // namespace r2s::cuda::backend
