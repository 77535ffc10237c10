#pragma once
// LeRobot "image" features: each frame is an encoded image (PNG, as LeRobot writes them; JPEG also decodes)
// embedded in the table as HF datasets' Image struct {bytes: binary, path: string}.

#include <string>

#include <arrow/type_fwd.h>

#include "episode/array.h"
#include "episode/feature_spec.h"

namespace r2s::episode::lerobot {

// Checks the Arrow type: a struct with a binary "bytes" field. InputError naming the file and column otherwise.
void CheckImageColumnType(const arrow::DataType& type, const std::string& file, const std::string& column);

// Decodes every row to uint8 {rows, H, W, C} (spec.shape = {H, W, C}). InputError naming the file, column and
// row on a null, an undecodable image, or one whose size is not the declared shape.
Array DecodeImageColumn(const arrow::ChunkedArray& column, const FeatureSpec& spec, const std::string& file,
                        const std::string& name);

}  // namespace r2s::episode::lerobot
