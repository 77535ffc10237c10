#pragma once
// HDF5 reports failures on its error stack and, by default, prints that stack to stderr. real2sim turns a
// failure into one InputError line instead: Quiet turns the printing off for a scope, and ErrorDetail reads
// the innermost message ("truncated file: eof = 1000, ..., stored_eof = 3623936").

#include <hdf5.h>

#include <string>

namespace r2s::episode::hdf5 {

// Silences HDF5's automatic error printing for this thread while in scope, restoring what was there before.
class Quiet {
 public:
  Quiet();
  ~Quiet();
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;

 private:
  H5E_auto2_t saved_func_ = nullptr;
  void* saved_data_ = nullptr;
};

// The innermost message on the current error stack, or "" when the stack is empty.
std::string ErrorDetail();

// Throws InputError(file, field, what + ": " + ErrorDetail()) when status < 0; returns status otherwise.
hid_t Check(hid_t status, const std::string& file, const std::string& field, const std::string& what);

}  // namespace r2s::episode::hdf5
