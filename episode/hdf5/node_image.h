#pragma once
// An episode's preserved nodes (what a robomimic demo carries beside the schema: MuJoCo states, a model's XML)
// copied verbatim into an in-memory HDF5 file, kept as that file's bytes. An episode so owns plain memory, not an
// open file: it may move to another thread, outlive its reader, and be written after its source file is gone.

#include <memory>
#include <string>
#include <vector>

#include "episode/hdf5/handle.h"
#include "episode/storage_extras.h"

namespace r2s::episode::hdf5 {

// Copies the nodes at `paths` (absolute, as in the source) of the open file `source` into one image, each at its
// own path. `file` names the source in errors.
std::shared_ptr<const NodeImage> CopyIntoImage(hid_t source, const std::vector<std::string>& paths,
                                               const std::string& file);

// Opens an image read-only, for H5Ocopy out of it. The handle must not outlive `image`.
Handle OpenImage(const NodeImage& image, const std::string& file);

}  // namespace r2s::episode::hdf5
