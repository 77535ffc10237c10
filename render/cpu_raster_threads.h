#pragma once
// lavapipe, the Vulkan driver that renders on the CPU (Mesa's llvmpipe behind Vulkan, what a machine without a GPU
// renders with), starts rasterizer threads of its own for every device it opens: as many as the machine has CPUs
// (up to Mesa's cap, 16 or 32 by version), not as many as the process was given, unless the environment's
// LP_NUM_THREADS says otherwise; it reads that when a Vulkan instance enumerates its devices. `r2s generate` opens
// one renderer per worker, so W workers on a node of N CPUs ran W x N rasterizer threads (up to the cap) beside the
// W workers, whatever CPUs the job was given: threads the caller never asked for, time-sliced onto its CPUs.
//
// With as many renderers as CPUs, each renderer rasterizing on the thread that calls it (LP_NUM_THREADS=0) is the
// share to take (bench/README.md, "Rasterizer threads"); with fewer renderers than CPUs, each one's rasterizer gets
// the CPUs the workers leave.

#include <string>

namespace r2s::render {

// Rasterizer threads per renderer for `renderers` renderers (>= 1) sharing `cpus` CPUs (>= 1): 0 (rasterize on
// the calling thread) when renderers >= cpus, else cpus / renderers (integer division; lavapipe caps it at its own
// limit). Throws std::invalid_argument naming the argument when one is below 1.
int CpuRasterThreads(int cpus, int renderers);

// Sets LP_NUM_THREADS to CpuRasterThreads(cpus, renderers) unless the environment sets it already (the user's
// choice wins), and returns one line for the log saying which value is in effect and why. It writes the process's
// environment: call it on a program's main thread before any Renderer exists and before other threads start
// (setenv is not safe beside a concurrent getenv). Only lavapipe reads the variable; GPU drivers ignore it.
std::string ShareCpuRasterizer(int cpus, int renderers);

}  // namespace r2s::render
