#pragma once
// A typed, row-major n-d array: one feature's column over T frames, or a numeric attribute.

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "episode/dtype.h"

namespace r2s::episode {

struct Array {
  DType dtype = DType::kFloat64;
  std::vector<std::int64_t> shape;  // {} for a scalar
  std::vector<std::byte> bytes;     // row-major, native byte order; bool as one 0/1 byte

  // Product of the shape (1 for a scalar).
  std::int64_t size() const;

  template <class T>
  std::span<const T> values() const {
    CheckElementType(DTypeOf<T>());
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
  template <class T>
  std::span<T> mutable_values() {
    CheckElementType(DTypeOf<T>());
    return {reinterpret_cast<T*>(bytes.data()), bytes.size() / sizeof(T)};
  }

  // Zero-filled array of the given shape.
  static Array Zeros(DType dtype, std::vector<std::int64_t> shape);
  template <class T>
  static Array Of(std::vector<std::int64_t> shape, std::span<const T> values) {
    Array array = Zeros(DTypeOf<T>(), std::move(shape));
    if (static_cast<std::size_t>(array.size()) != values.size()) {
      throw std::invalid_argument("Array::Of: " + std::to_string(values.size()) + " values for a shape of " +
                                  std::to_string(array.size()) + " elements");
    }
    auto out = array.mutable_values<T>();
    std::copy(values.begin(), values.end(), out.begin());
    return array;
  }

  bool operator==(const Array&) const = default;

 private:
  void CheckElementType(DType requested) const;
};

// A column of shape {T, ...} seen as T frames of FrameWidth values (1 for shape {T}).
std::int64_t FrameWidth(const Array& frames);
// Value `index` of frame `frame` of a float32 or float64 column (`width` its FrameWidth), as a double; and its
// setter, rounding to the column's dtype. For columns already checked to be float32/float64.
double FloatAt(const Array& frames, std::int64_t width, std::int64_t frame, std::int64_t index);
void SetFloatAt(Array& frames, std::int64_t width, std::int64_t frame, std::int64_t index, double value);

// NaN and Inf in a floating-point column of shape {T, ...}: how many, and the first frame holding one.
struct NonFiniteCount {
  std::int64_t count = 0;
  std::int64_t first_frame = -1;  // -1 when count is 0
};
// Integer and bool arrays have none.
NonFiniteCount CountNonFinite(const Array& frames);

// "[20544, 7]"
std::string ShapeToString(std::span<const std::int64_t> shape);

}  // namespace r2s::episode
