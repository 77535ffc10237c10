#include "episode/hdf5/attribute_io.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "episode/hdf5/error.h"
#include "episode/hdf5/handle.h"
#include "episode/hdf5/raw_value_impl.h"
#include "episode/hdf5/types.h"
#include "episode/input_error.h"

namespace r2s::episode::hdf5 {
namespace {

std::vector<hsize_t> SpaceDims(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

std::size_t ElementCount(const std::vector<hsize_t>& dims) {
  std::size_t n = 1;
  for (hsize_t d : dims) n *= d;
  return n;
}

StringFormat StringFormatOf(hid_t type) {
  StringFormat format;
  format.variable_length = H5Tis_variable_str(type) > 0;
  format.utf8 = H5Tget_cset(type) == H5T_CSET_UTF8;
  format.fixed_size = format.variable_length ? 0 : H5Tget_size(type);
  switch (H5Tget_strpad(type)) {
    case H5T_STR_NULLPAD:
      format.padding = StringFormat::Padding::kNullPadded;
      break;
    case H5T_STR_SPACEPAD:
      format.padding = StringFormat::Padding::kSpacePadded;
      break;
    default:
      format.padding = StringFormat::Padding::kNullTerminated;
      break;
  }
  return format;
}

Handle StringType(const StringFormat& format) {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), format.variable_length ? H5T_VARIABLE : std::max<std::size_t>(format.fixed_size, 1));
  H5Tset_cset(type.get(), format.utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
  H5T_str_t pad = H5T_STR_NULLTERM;
  if (format.padding == StringFormat::Padding::kNullPadded) pad = H5T_STR_NULLPAD;
  if (format.padding == StringFormat::Padding::kSpacePadded) pad = H5T_STR_SPACEPAD;
  H5Tset_strpad(type.get(), pad);
  return type;
}

std::vector<std::string> ReadStrings(hid_t attribute, hid_t stored_type, const StringFormat& format, std::size_t count,
                                     const std::string& file, const std::string& where) {
  std::vector<std::string> strings;
  strings.reserve(count);
  Handle memory_type = StringType(format);
  if (format.variable_length) {
    std::vector<char*> pointers(count, nullptr);
    Check(H5Aread(attribute, memory_type.get(), pointers.data()), file, where, "cannot read string attribute");
    for (char* p : pointers) strings.emplace_back(p ? p : "");
    Handle space(H5Aget_space(attribute));
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, pointers.data());
    return strings;
  }
  const std::size_t size = H5Tget_size(stored_type);
  std::vector<char> buffer(size * count);
  Check(H5Aread(attribute, memory_type.get(), buffer.data()), file, where, "cannot read string attribute");
  for (std::size_t i = 0; i < count; ++i) {
    std::string s(buffer.data() + i * size, size);
    if (format.padding == StringFormat::Padding::kSpacePadded) {
      s.erase(s.find_last_not_of(' ') + 1);
    } else {
      s.resize(std::strlen(s.c_str()));  // null-terminated or null-padded: up to the first NUL
    }
    strings.push_back(std::move(s));
  }
  return strings;
}

AttributeValue ReadOne(hid_t attribute, const std::string& file, const std::string& where) {
  Handle type(Check(H5Aget_type(attribute), file, where, "cannot read attribute type"));
  Handle space(Check(H5Aget_space(attribute), file, where, "cannot read attribute dataspace"));
  if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) {
    throw InputError(file, where, "empty (null dataspace) attributes are not supported");
  }
  const std::vector<hsize_t> dims = SpaceDims(space.get());
  const std::size_t count = ElementCount(dims);
  std::vector<std::int64_t> shape(dims.begin(), dims.end());

  if (auto dtype = NumericDTypeOf(type.get())) {
    Array array = Array::Zeros(*dtype, shape);
    Handle memory_type = NativeTypeFor(*dtype);
    Check(H5Aread(attribute, memory_type.get(), array.bytes.data()), file, where, "cannot read attribute");
    return AttributeValue::Numeric(std::move(array));
  }
  if (H5Tget_class(type.get()) == H5T_STRING) {
    AttributeValue value;
    value.kind = AttributeValue::Kind::kString;
    value.string_format = StringFormatOf(type.get());
    value.string_shape = shape;
    value.strings = ReadStrings(attribute, type.get(), value.string_format, count, file, where);
    return value;
  }
  // Types with pointers inside cannot be kept as bytes.
  if (H5Tdetect_class(type.get(), H5T_VLEN) > 0 || H5Tdetect_class(type.get(), H5T_REFERENCE) > 0 ||
      H5Tdetect_class(type.get(), H5T_STRING) > 0) {
    throw InputError(file, where, "unsupported attribute type (" + DescribeType(type.get()) + ")");
  }
  auto raw = std::make_shared<RawHdf5Value>();
  raw->type = Handle(H5Tcopy(type.get()));
  raw->dims = dims;
  raw->bytes.resize(H5Tget_size(type.get()) * count);
  Check(H5Aread(attribute, raw->type.get(), raw->bytes.data()), file, where, "cannot read attribute");
  AttributeValue value;
  value.kind = AttributeValue::Kind::kRaw;
  value.raw = std::move(raw);
  return value;
}

Handle Space(const std::vector<hsize_t>& dims) {
  if (dims.empty()) return Handle(H5Screate(H5S_SCALAR));
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

std::vector<hsize_t> ToDims(const std::vector<std::int64_t>& shape) { return {shape.begin(), shape.end()}; }

}  // namespace

Attributes ReadAttributes(hid_t object, const std::string& file, const std::string& path) {
  H5O_info_t info;
  Check(H5Oget_info2(object, &info, H5O_INFO_NUM_ATTRS), file, path, "cannot list attributes");
  Attributes attributes;
  attributes.reserve(info.num_attrs);
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    Handle attribute(Check(H5Aopen_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT), file,
                           path, "cannot open attribute " + std::to_string(i)));
    const ssize_t length = H5Aget_name(attribute.get(), 0, nullptr);
    std::string name(static_cast<std::size_t>(std::max<ssize_t>(length, 0)), '\0');
    H5Aget_name(attribute.get(), name.size() + 1, name.data());
    attributes.push_back({name, ReadOne(attribute.get(), file, path + " attribute '" + name + "'")});
  }
  return attributes;
}

void WriteAttributes(hid_t object, const Attributes& attributes, const std::string& file, const std::string& path) {
  for (const auto& [name, value] : attributes) {
    const std::string where = path + " attribute '" + name + "'";
    if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
    Handle type, space;
    const void* data = nullptr;
    std::vector<const char*> pointers;
    std::vector<char> fixed;
    switch (value.kind) {
      case AttributeValue::Kind::kNumeric:
        type = NativeTypeFor(value.numeric.dtype);
        space = Space(ToDims(value.numeric.shape));
        data = value.numeric.bytes.data();
        break;
      case AttributeValue::Kind::kString: {
        StringFormat format = value.string_format;
        if (!format.variable_length) {
          for (const auto& s : value.strings) format.fixed_size = std::max(format.fixed_size, s.size());
        }
        type = StringType(format);
        space = Space(ToDims(value.string_shape));
        if (format.variable_length) {
          for (const auto& s : value.strings) pointers.push_back(s.c_str());
          data = pointers.data();
        } else {
          const char pad = format.padding == StringFormat::Padding::kSpacePadded ? ' ' : '\0';
          const std::size_t size = std::max<std::size_t>(format.fixed_size, 1);
          fixed.assign(size * value.strings.size(), pad);
          for (std::size_t i = 0; i < value.strings.size(); ++i) {
            std::memcpy(fixed.data() + i * size, value.strings[i].data(), value.strings[i].size());
          }
          data = fixed.data();
        }
        break;
      }
      case AttributeValue::Kind::kRaw:
        type = Handle(H5Tcopy(value.raw->type.get()));
        space = Space(value.raw->dims);
        data = value.raw->bytes.data();
        break;
    }
    Handle attribute(Check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), file,
                           where, "cannot create attribute"));
    Check(H5Awrite(attribute.get(), type.get(), data), file, where, "cannot write attribute");
  }
}

}  // namespace r2s::episode::hdf5
