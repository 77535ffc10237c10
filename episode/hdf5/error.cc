#include "episode/hdf5/error.h"

#include <cstdlib>
#include <cstring>
#include <system_error>

#include "episode/input_error.h"
#include "episode/output_error.h"

namespace r2s::episode::hdf5 {

Quiet::Quiet() {
  H5Eget_auto2(H5E_DEFAULT, &saved_func_, &saved_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Quiet::~Quiet() { H5Eset_auto2(H5E_DEFAULT, saved_func_, saved_data_); }

namespace {

herr_t TakeInnermost(unsigned n, const H5E_error2_t* error, void* out) {
  // Walking upward, entry 0 is where the failure started: the most specific description.
  if (n == 0 && error->desc) *static_cast<std::string*>(out) = error->desc;
  return 0;
}

}  // namespace

std::string ErrorDetail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, TakeInnermost, &detail);
  return detail;
}

namespace {

// The errno a failed read or write of HDF5's POSIX driver records in its message ("..., errno = 28, error message
// = 'No space left on device', ..."), or 0.
int ErrnoIn(const std::string& detail) {
  const std::size_t at = detail.find("errno = ");
  return at == std::string::npos ? 0 : std::atoi(detail.c_str() + at + 8);
}

}  // namespace

hid_t Check(hid_t status, const std::string& file, const std::string& field, const std::string& what) {
  if (status >= 0) return status;
  const std::string detail = ErrorDetail();
  H5Eclear2(H5E_DEFAULT);
  if (const int error = ErrnoIn(detail); error != 0 && IsOutputFailure(std::error_code(error, std::generic_category()))) {
    throw OutputError(file, std::string(std::strerror(error)) + " (" + what + ")");
  }
  throw InputError(file, field, detail.empty() ? what : what + ": " + detail);
}

}  // namespace r2s::episode::hdf5
