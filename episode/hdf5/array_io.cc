#include "episode/hdf5/array_io.h"

#include <libdeflate.h>

#include <cstddef>
#include <memory>

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

// Writes a per-frame chunked dataset one frame (one chunk) at a time, each chunk filtered here as the dataset's
// pipeline would filter it (HDF5's byte shuffle when asked, then deflate in zlib format) and handed to HDF5 as it
// is (H5Dwrite_chunk): libdeflate compresses 2-3x faster than the zlib the filter calls, and every HDF5 reader
// inflates the result with its own filter.
void WriteFrameChunks(hid_t dataset, const Array& array, const ArrayStorage& storage, const std::string& file,
                      const std::string& where) {
  const std::size_t frames = static_cast<std::size_t>(array.shape[0]);
  const std::size_t frame_bytes = array.bytes.size() / frames;
  const std::size_t element = DTypeSize(array.dtype);
  std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> compressor(
      libdeflate_alloc_compressor(storage.deflate_level), &libdeflate_free_compressor);
  if (!compressor) throw std::runtime_error("libdeflate: cannot allocate a compressor");
  std::vector<std::byte> compressed(libdeflate_zlib_compress_bound(compressor.get(), frame_bytes));
  const bool shuffle = storage.shuffle && element > 1;
  std::vector<std::byte> shuffled(shuffle ? frame_bytes : 0);
  std::vector<hsize_t> offset(array.shape.size(), 0);
  for (std::size_t t = 0; t < frames; ++t) {
    const std::byte* frame = array.bytes.data() + t * frame_bytes;
    if (shuffle) {  // H5Z's shuffle: every element's first byte, then every second byte, ...
      const std::size_t n = frame_bytes / element;
      for (std::size_t b = 0; b < element; ++b) {
        for (std::size_t i = 0; i < n; ++i) shuffled[b * n + i] = frame[i * element + b];
      }
      frame = shuffled.data();
    }
    const std::size_t size =
        libdeflate_zlib_compress(compressor.get(), frame, frame_bytes, compressed.data(), compressed.size());
    if (size == 0) throw std::runtime_error("libdeflate: a frame did not fit its compression bound");
    offset[0] = t;
    Check(H5Dwrite_chunk(dataset, H5P_DEFAULT, 0, offset.data(), size, compressed.data()), file, where,
          "cannot write frame " + std::to_string(t));
  }
}

}  // namespace

void WriteArray(hid_t location, const std::string& path, const Array& array, ArrayStorage storage,
                const std::string& file, const std::string& where) {
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
    WriteFrameChunks(dataset.get(), array, storage, file, where);
    return;
  }
  Check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, array.bytes.data()), file, where,
        "cannot write data");
}

}  // namespace r2s::episode::hdf5
