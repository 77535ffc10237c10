#include "episode/hdf5/structure.h"

#include <algorithm>

#include "episode/hdf5/error.h"
#include "episode/hdf5/handle.h"
#include "episode/hdf5/layout.h"
#include "episode/hdf5/types.h"
#include "episode/input_error.h"

namespace r2s::episode::hdf5 {
namespace {

herr_t CollectName(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

// Hard links can make a group its own descendant (a cycle) or reach one group by many paths (a lattice whose
// paths grow exponentially with its depth): both are refused, the first by the groups on the way down, the
// second by the limits. A real episode is a few levels and at most thousands of objects deep.
struct WalkState {
  std::vector<haddr_t> ancestors;  // the groups from the scanned one down to the current one
  std::size_t objects = 0;
};

void Walk(hid_t group, const std::string& prefix, const std::string& file, const std::string& group_path,
          GroupStructure& out, WalkState& state) {
  if (state.ancestors.size() > kMaxGroupDepth) {
    throw InputError(file, "/" + JoinPath(group_path, prefix),
                     "groups nest deeper than " + std::to_string(kMaxGroupDepth) + " levels");
  }
  for (const std::string& name : ChildNames(group, file, JoinPath(group_path, prefix))) {
    const std::string relative = JoinPath(prefix, name);
    const std::string where = "/" + JoinPath(group_path, relative);
    H5L_info_t link;
    Check(H5Lget_info(group, name.c_str(), &link, H5P_DEFAULT), file, where, "cannot read link");
    if (link.type != H5L_TYPE_HARD) {
      throw InputError(
          file, where,
          link.type == H5L_TYPE_SOFT ? "soft links are not supported" : "external links are not supported");
    }
    H5O_info_t info;
    Check(H5Oget_info_by_name2(group, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT), file, where,
          "cannot read object");
    if (++state.objects > kMaxObjects) {
      throw InputError(file, where,
                       "more than " + std::to_string(kMaxObjects) + " groups and datasets below /" + group_path);
    }
    if (info.type == H5O_TYPE_GROUP) {
      if (std::count(state.ancestors.begin(), state.ancestors.end(), info.addr) > 0) {
        throw InputError(file, where, "is a hard link to a group it is inside of (a cycle)");
      }
      out.groups.push_back(relative);
      Handle child(Check(H5Gopen2(group, name.c_str(), H5P_DEFAULT), file, where, "cannot open group"));
      state.ancestors.push_back(info.addr);
      Walk(child.get(), relative, file, group_path, out, state);
      state.ancestors.pop_back();
    } else if (info.type == H5O_TYPE_DATASET) {
      Handle dataset(Check(H5Dopen2(group, name.c_str(), H5P_DEFAULT), file, where, "cannot open dataset"));
      Handle type(Check(H5Dget_type(dataset.get()), file, where, "cannot read dataset type"));
      Handle space(Check(H5Dget_space(dataset.get()), file, where, "cannot read dataset dataspace"));
      DatasetEntry entry;
      entry.path = relative;
      entry.dtype = NumericDTypeOf(type.get());
      entry.type_description = DescribeType(type.get());
      const int rank = H5Sget_simple_extent_ndims(space.get());
      std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
      if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      entry.dims.assign(dims.begin(), dims.end());
      out.datasets.push_back(std::move(entry));
    }
    // Committed datatypes are copied with the nodes that use them.
  }
}

}  // namespace

bool DatasetEntry::IsImage() const {
  return dtype == DType::kUInt8 && dims.size() == 4 && (dims[3] == 1 || dims[3] == 3 || dims[3] == 4);
}

std::vector<std::string> ChildNames(hid_t group, const std::string& file, const std::string& group_path) {
  std::vector<std::string> names;
  hsize_t index = 0;
  Check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, CollectName, &names), file, "/" + group_path,
        "cannot list group");
  return names;
}

GroupStructure ScanGroup(hid_t group, const std::string& file, const std::string& group_path) {
  GroupStructure out;
  WalkState state;
  H5O_info_t info;
  Check(H5Oget_info2(group, &info, H5O_INFO_BASIC), file, "/" + group_path, "cannot read object");
  state.ancestors.push_back(info.addr);
  Walk(group, "", file, group_path, out, state);
  return out;
}

}  // namespace r2s::episode::hdf5
