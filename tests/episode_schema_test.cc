// The schema as data: validation reports every mismatch at once; provenance and attributes behave as records.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "episode/validate.h"
#include "tests/test_support.h"

namespace r2s::episode {
namespace {

using Kind = FeatureMismatch::Kind;

Features ArmFeatures() {
  Features f;
  f["observation.state"] = {DType::kFloat64, {7}, {{}}, "rad"};
  f["observation.images.wrist"] = {DType::kUInt8, {4, 4, 3}, {{}, {}, {}}, ""};
  f["action"] = {DType::kFloat32, {7}, {{}}, "rad"};
  f["timestamp"] = {DType::kFloat64, {}, {}, "s"};
  return f;
}

Episode MatchingEpisode(std::int64_t frames) {
  Episode e;
  e.metadata.length = frames;
  e.columns["observation.state"].data = Array::Zeros(DType::kFloat64, {frames, 7});
  e.columns["observation.images.wrist"].data = Array::Zeros(DType::kUInt8, {frames, 4, 4, 3});
  e.columns["action"].data = Array::Zeros(DType::kFloat32, {frames, 7});
  e.columns["timestamp"].data = Array::Zeros(DType::kFloat64, {frames});
  return e;
}

const FeatureMismatch* Find(const ValidationReport& report, Kind kind, const std::string& feature) {
  for (const auto& m : report.mismatches) {
    if (m.kind == kind && m.feature == feature) return &m;
  }
  return nullptr;
}

TEST(ValidateEpisode, AcceptsAMatchingEpisode) {
  const ValidationReport report = ValidateEpisode(MatchingEpisode(10), ArmFeatures());
  EXPECT_TRUE(report.ok()) << report.ToString();
}

TEST(ValidateEpisode, ReportsEveryMismatchAtOnce) {
  Episode e = MatchingEpisode(10);
  e.columns["action"].data = Array::Zeros(DType::kFloat64, {10, 7});                        // dtype
  e.columns["observation.images.wrist"].data = Array::Zeros(DType::kUInt8, {10, 4, 4, 1});  // shape
  e.columns.erase("timestamp");                                                             // missing
  e.columns["observation.extra"].data = Array::Zeros(DType::kInt32, {10, 2});               // unexpected
  e.columns["observation.state"].data = Array::Zeros(DType::kFloat64, {9, 7});              // length
  e.columns["observation.state"].data.mutable_values<double>()[4 * 7 + 3] = std::nan("");   // frame 4
  e.columns["action"].data.mutable_values<double>()[8 * 7] = std::numeric_limits<double>::infinity();

  const ValidationReport report = ValidateEpisode(e, ArmFeatures());
  EXPECT_EQ(report.mismatches.size(), 7u) << report.ToString();

  const auto* dtype = Find(report, Kind::kDType, "action");
  ASSERT_NE(dtype, nullptr);
  EXPECT_EQ(dtype->expected, "float32");
  EXPECT_EQ(dtype->actual, "dtype float64");
  const auto* shape = Find(report, Kind::kShape, "observation.images.wrist");
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->expected, "[T, 4, 4, 3]");
  EXPECT_EQ(shape->actual, "shape [T, 4, 4, 1]");
  ASSERT_NE(Find(report, Kind::kMissing, "timestamp"), nullptr);
  ASSERT_NE(Find(report, Kind::kUnexpected, "observation.extra"), nullptr);
  const auto* length = Find(report, Kind::kLength, "observation.state");
  ASSERT_NE(length, nullptr);
  EXPECT_EQ(length->actual, "9 frames");
  EXPECT_EQ(length->expected, "10 frames");
  const auto* nan = Find(report, Kind::kNonFinite, "observation.state");
  ASSERT_NE(nan, nullptr);
  EXPECT_EQ(nan->frame, 4);
  const auto* inf = Find(report, Kind::kNonFinite, "action");
  ASSERT_NE(inf, nullptr);
  EXPECT_EQ(inf->frame, 8);
  EXPECT_NE(report.ToString().find("observation.images.wrist: shape [T, 4, 4, 1], expected [T, 4, 4, 3]"),
            std::string::npos)
      << report.ToString();
}

TEST(ValidateEpisode, RealPandaLogMatchesItsOwnFeaturesUntilANaNIsPlanted) {
  const DatasetReader reader = DatasetReader::Open(testing::BundledPandaEpisode());
  Episode e = reader.ReadEpisode(0);
  EXPECT_TRUE(ValidateEpisode(e, reader.info().features).ok());
  EXPECT_EQ(reader.info().features.at("observation.effort").shape, (std::vector<std::int64_t>{7}));

  e.columns.at("observation.effort").data.mutable_values<double>()[1234 * 7 + 6] = std::nan("");
  const ValidationReport report = ValidateEpisode(e, reader.info().features);
  ASSERT_EQ(report.mismatches.size(), 1u) << report.ToString();
  EXPECT_EQ(report.mismatches[0].feature, "observation.effort");
  EXPECT_EQ(report.mismatches[0].frame, 1234);
}

TEST(Provenance, RoundTripsThroughJson) {
  const Provenance p{"panda.hdf5", 3,       17, 0xdeadbeefcafeULL, {{"mass_kg", {0.5}}, {"rgb", {0.1, 0.2, 0.3}}},
                     "0.1.0",      ""};
  EXPECT_EQ(ProvenanceFromJson(ProvenanceToJson(p), "f", "x"), p);
}

TEST(Provenance, MalformedJsonIsAnInputErrorNamingWhere) {
  try {
    ProvenanceFromJson("{not json", "episodes.hdf5", "/data/demo_0 attribute 'r2s_provenance'");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "episodes.hdf5");
    EXPECT_EQ(e.field(), "/data/demo_0 attribute 'r2s_provenance'");
    EXPECT_NE(e.problem().find("{not json"), std::string::npos);
  }
  EXPECT_THROW(ProvenanceFromJson(R"({"seed": "many"})", "f", "x"), InputError);
}

TEST(Attributes, SettingAValueKeepsTheStoredType) {
  Attributes attributes;
  Array int32 = Array::Zeros(DType::kInt32, {});
  int32.mutable_values<std::int32_t>()[0] = 5;
  attributes.push_back({"num_samples", AttributeValue::Numeric(int32)});
  SetAttribute(attributes, "num_samples", AttributeValue::Int64(120));
  const AttributeValue* value = FindAttribute(attributes, "num_samples");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(value->numeric.dtype, DType::kInt32);
  EXPECT_EQ(value->AsInt64(), 120);
  SetAttribute(attributes, "task", AttributeValue::String("lift"));
  EXPECT_EQ(FindAttribute(attributes, "task")->AsString(), "lift");
  EXPECT_EQ(AttributeValue::Bool(true).AsBool(), true);
  EXPECT_EQ(AttributeValue::Bool(false).ToString(), "False");
}

TEST(DType, NamesRoundTrip) {
  for (DType d : {DType::kBool, DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64, DType::kUInt8,
                  DType::kUInt16, DType::kUInt32, DType::kUInt64, DType::kFloat32, DType::kFloat64, DType::kString}) {
    EXPECT_EQ(DTypeFromName(DTypeName(d)), d);
  }
  EXPECT_EQ(DTypeFromName("float16"), std::nullopt);
  EXPECT_EQ(DTypeSize(DType::kFloat32), 4u);
}

TEST(Array, TypedViewsCheckTheElementType) {
  Array a = Array::Zeros(DType::kFloat32, {2, 3});
  EXPECT_EQ(a.values<float>().size(), 6u);
  EXPECT_THROW(a.values<double>(), std::logic_error);
  EXPECT_THROW(Array::Of<int>({4}, std::vector<int>{1, 2, 3}), std::invalid_argument);
}

}  // namespace
}  // namespace r2s::episode
