#include "episode/hdf5/node_image.h"

#include <cstdint>
#include <stdexcept>

#include "episode/hdf5/error.h"

namespace r2s::episode::hdf5 {
namespace {

// The core driver tells open files apart by name: an image's own address names it while it lives.
std::string CoreName(const NodeImage* image) {
  return "r2s-node-image-" + std::to_string(reinterpret_cast<std::uintptr_t>(image));
}

constexpr std::size_t kCoreIncrementBytes = 64 * 1024;

}  // namespace

std::shared_ptr<const NodeImage> CopyIntoImage(hid_t source, const std::vector<std::string>& paths,
                                               const std::string& file) {
  auto image = std::make_shared<NodeImage>();
  image->source_file = file;
  Handle access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_core(access.get(), kCoreIncrementBytes, /*backing_store=*/0);
  const std::string name = CoreName(image.get());
  Handle memory(Check(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), file, "",
                      "cannot create an in-memory copy of its preserved nodes"));
  Handle link(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(link.get(), 1);
  for (const std::string& path : paths) {
    Check(H5Ocopy(source, path.c_str(), memory.get(), path.c_str(), H5P_DEFAULT, link.get()), file, path,
          "cannot copy");
  }
  Check(H5Fflush(memory.get(), H5F_SCOPE_LOCAL), file, "", "cannot flush the in-memory copy of its preserved nodes");
  const ssize_t bytes = H5Fget_file_image(memory.get(), nullptr, 0);
  Check(static_cast<hid_t>(bytes), file, "", "cannot size the in-memory copy of its preserved nodes");
  image->hdf5_bytes.resize(static_cast<std::size_t>(bytes));
  Check(static_cast<hid_t>(H5Fget_file_image(memory.get(), image->hdf5_bytes.data(), image->hdf5_bytes.size())),
        file, "", "cannot read the in-memory copy of its preserved nodes");
  if (memory.Close() < 0) throw std::runtime_error("closing the in-memory copy of " + file + "'s preserved nodes");
  return image;
}

Handle OpenImage(const NodeImage& image, const std::string& file) {
  Handle access(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_core(access.get(), kCoreIncrementBytes, /*backing_store=*/0);
  // Copied by HDF5 on open (no callbacks given): the image stays const.
  H5Pset_file_image(access.get(), const_cast<std::byte*>(image.hdf5_bytes.data()), image.hdf5_bytes.size());
  return Handle(Check(H5Fopen(CoreName(&image).c_str(), H5F_ACC_RDONLY, access.get()), file, "",
                      "cannot open the preserved nodes copied from " + image.source_file));
}

}  // namespace r2s::episode::hdf5
