#pragma once
// Whole-dataset reads and writes of typed arrays.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "episode/array.h"
#include "episode/frame_deflate.h"

namespace r2s::episode::hdf5 {

Array ReadArray(hid_t dataset, DType dtype, const std::vector<std::int64_t>& dims, const std::string& file,
                const std::string& where);

struct ArrayStorage {
  // Chunk one frame per chunk and deflate at deflate_level: images [T, H, W, C] and per-pixel maps [T, H, W]
  // (depth, segmentation).
  bool per_frame = false;
  int deflate_level = 4;
  // Byte-shuffle before deflate (HDF5's shuffle filter, which h5py and every HDF5 reader apply): multi-byte
  // pixels that vary smoothly deflate several times smaller with their bytes grouped by significance
  // (ShuffleDeflatesSmaller decides per column).
  bool shuffle = false;
};

// Creates `path` below `location` (intermediate groups as needed) and writes `array` into it; a per-frame array's
// chunks come from `deflated` when it matches the storage's settings (frame_deflate.h), else are deflated here.
void WriteArray(hid_t location, const std::string& path, const Array& array, ArrayStorage storage,
                const std::string& file, const std::string& where, const DeflatedFrames* deflated = nullptr);

}  // namespace r2s::episode::hdf5
