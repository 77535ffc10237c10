#include "episode/hdf5/array_io.h"

#include <cstddef>
#include <optional>
#include <span>

#include "episode/frame_deflate.h"
#include "episode/hdf5/error.h"
#include "episode/hdf5/handle.h"
#include "episode/hdf5/types.h"

namespace r2s::episode::hdf5 {

Array ReadArray(hid_t dataset, DType dtype, const std::vector<std::int64_t>& dims, const std::string& file,
                const std::string& where) {
  Array array = Array::Zeros(dtype, dims);
  Handle memory_type = NativeTypeFor(dtype);
  if (!array.bytes.empty()) {
    Check(H5Dread(dataset, memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, array.bytes.data()), file, where,
          "cannot read data");
  }
  return array;
}

namespace {

// Writes a per-frame chunked dataset one frame (one chunk) at a time, each chunk filtered as the dataset's pipeline
// would filter it (frame_deflate.h) and handed to HDF5 as it is (H5Dwrite_chunk); every HDF5 reader inflates it
// with its own filter. Chunks a worker deflated already are used when they match the storage's settings.
void WriteFrameChunks(hid_t dataset, const Array& array, const ArrayStorage& storage, const DeflatedFrames* ready,
                      const std::string& file, const std::string& where) {
  const bool shuffle = storage.shuffle && DTypeSize(array.dtype) > 1;
  const std::size_t frames = static_cast<std::size_t>(array.shape[0]);
  const bool use_ready = ready && ready->level == storage.deflate_level && ready->shuffle == shuffle &&
                         ready->chunks.size() == frames;
  const std::size_t frame_bytes = array.bytes.size() / frames;
  // Frame by frame when nothing was deflated ahead, so that no column's chunks are held at once.
  std::optional<FrameDeflater> deflater;
  if (!use_ready) deflater.emplace(frame_bytes, DTypeSize(array.dtype), storage.deflate_level, shuffle);
  std::vector<hsize_t> offset(array.shape.size(), 0);
  for (std::size_t t = 0; t < frames; ++t) {
    offset[0] = t;
    const std::span<const std::byte> chunk = use_ready ? std::span<const std::byte>(ready->chunks[t])
                                                       : deflater->Deflate(array.bytes.data() + t * frame_bytes);
    Check(H5Dwrite_chunk(dataset, H5P_DEFAULT, 0, offset.data(), chunk.size(), chunk.data()), file, where,
          "cannot write frame " + std::to_string(t));
  }
}

}  // namespace

void WriteArray(hid_t location, const std::string& path, const Array& array, ArrayStorage storage,
                const std::string& file, const std::string& where, const DeflatedFrames* deflated) {
  std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
  std::vector<hsize_t> max_dims = dims;
  Handle create(H5Pcreate(H5P_DATASET_CREATE));
  // No modification times in object headers: the same episode must give the same bytes (reproducible runs).
  H5Pset_obj_track_times(create.get(), 0);
  if (storage.per_frame && dims.size() >= 3) {
    // One frame per chunk: a reader pulling frame t decompresses exactly one frame.
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    max_dims[0] = H5S_UNLIMITED;  // lets an empty (0-frame) image column have a 1-frame chunk
    H5Pset_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data());
    if (storage.shuffle) H5Pset_shuffle(create.get());
    H5Pset_deflate(create.get(), static_cast<unsigned>(storage.deflate_level));
  }
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()));
  Handle link(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(link.get(), 1);
  Handle type = NativeTypeFor(array.dtype);
  Handle dataset(
      Check(H5Dcreate2(location, path.c_str(), type.get(), space.get(), link.get(), create.get(), H5P_DEFAULT), file,
            where, "cannot create dataset"));
  if (array.bytes.empty()) return;
  if (storage.per_frame && dims.size() >= 3 && storage.deflate_level >= 1 && storage.deflate_level <= 9) {
    WriteFrameChunks(dataset.get(), array, storage, deflated, file, where);
    return;
  }
  Check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, array.bytes.data()), file, where,
        "cannot write data");
}

}  // namespace r2s::episode::hdf5
