#pragma once
// Owns one HDF5 identifier (file, group, dataset, attribute, type, space, property list) and releases it once.

#include <hdf5.h>

#include <utility>

namespace r2s::episode::hdf5 {

class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      Reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Handle() { Reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Closes now, reporting failure (a file's close flushes, and a failed flush must not pass silently).
  herr_t Close() {
    herr_t status = 0;
    if (id_ >= 0 && H5Iis_valid(id_) > 0) status = H5Idec_ref(id_) < 0 ? -1 : 0;
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  void Reset() { Close(); }
  hid_t id_ = H5I_INVALID_HID;
};

}  // namespace r2s::episode::hdf5
