// Problem 1, joint dynamics from measured torque: the zero-phase filter against analytic signals, the base
// parameters against the full regressor, the published reference model against its URDF, recovery of known
// parameters from synthetic episodes built on the real log's own trajectory and timestamps, the real log itself
// against the published model, and bad input.

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "episode/dataset_reader.h"
#include "episode/dataset_writer.h"
#include "episode/input_error.h"
#include "sim/params_overlay.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/scene_compiler.h"
#include "sim/scene_loader.h"
#include "sim/urdf_loader.h"
#include "sysid/base_parameters.h"
#include "sysid/joint_dynamics.h"
#include "sysid/reference_model.h"
#include "sysid/signal_filter.h"
#include "test_support.h"

namespace r2s::sysid {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kPi = std::numbers::pi;

std::filesystem::path PandaScene() { return testing::SourceDir() / "scenes/panda_sysid"; }
std::filesystem::path PublishedParams() {
  return testing::SourceDir() / "scenes/panda_sysid/reference/published_params.json";
}

// Uniform and normal draws from raw generator bits: the same numbers with every standard library.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double Normal(std::mt19937_64& rng) {
  const double u = std::max(Uniform(rng), 1e-300), v = Uniform(rng);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * kPi * v);
}

// Irregular sample times like the real log's: 0.7-1.6 ms apart, with a few gaps of 8.8 ms.
VectorXd IrregularTimes(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  VectorXd t(n);
  t[0] = 0;
  for (int i = 1; i < n; ++i) t[i] = t[i - 1] + (i % 997 == 0 ? 8.8e-3 : 0.7e-3 + 0.9e-3 * Uniform(rng));
  return t;
}

// ---- The filter ----

// |H(f)| of a cascade of sections.
double Magnitude(const std::vector<SecondOrderSection>& sections, double f_hz, double rate_hz) {
  const std::complex<double> z = std::polar(1.0, 2 * kPi * f_hz / rate_hz);
  std::complex<double> h = 1;
  for (const auto& s : sections) {
    const std::complex<double> zi = 1.0 / z;
    h *= (s.b0 + s.b1 * zi + s.b2 * zi * zi) / (1.0 + s.a1 * zi + s.a2 * zi * zi);
  }
  return std::abs(h);
}

TEST(SignalFilter, ButterworthHasUnitDcGainHalfPowerAtCutoffAndMaximallyFlatPassBand) {
  for (int order = 1; order <= 6; ++order) {
    const auto sections = ButterworthLowPass(order, 10, 1000);
    EXPECT_EQ(sections.size(), static_cast<std::size_t>((order + 1) / 2));
    EXPECT_NEAR(Magnitude(sections, 0, 1000), 1, 1e-12) << order;
    EXPECT_NEAR(Magnitude(sections, 10, 1000), 1 / std::sqrt(2.0), 1e-9) << order;
    // Analog Butterworth: |H|^2 = 1 / (1 + (f/fc)^(2n)); pre-warping keeps it close well below Nyquist.
    for (double f : {2.0, 5.0, 20.0, 40.0}) {
      EXPECT_NEAR(Magnitude(sections, f, 1000), 1 / std::sqrt(1 + std::pow(f / 10, 2 * order)), 0.01) << f;
    }
  }
  EXPECT_THROW(ButterworthLowPass(4, 600, 1000), std::invalid_argument);
  EXPECT_THROW(ButterworthLowPass(0, 10, 1000), std::invalid_argument);
}

TEST(SignalFilter, RecoversAnalyticSignalAndItsDerivativesOnIrregularTimesWithoutLag) {
  const VectorXd t = IrregularTimes(20000, 7);  // ~23 s
  // Two tones well inside the pass band, a slope and an offset.
  const auto x = [](double s) {
    return 0.8 * std::sin(2 * kPi * 0.3 * s) + 0.2 * std::cos(2 * kPi * 1.1 * s) + 0.05 * s + 1;
  };
  const auto dx = [](double s) {
    return 0.8 * 2 * kPi * 0.3 * std::cos(2 * kPi * 0.3 * s) - 0.2 * 2 * kPi * 1.1 * std::sin(2 * kPi * 1.1 * s) + 0.05;
  };
  const auto ddx = [](double s) {
    return -0.8 * std::pow(2 * kPi * 0.3, 2) * std::sin(2 * kPi * 0.3 * s) -
           0.2 * std::pow(2 * kPi * 1.1, 2) * std::cos(2 * kPi * 1.1 * s);
  };
  MatrixXd samples(t.size(), 1);
  for (Eigen::Index i = 0; i < t.size(); ++i) samples(i, 0) = x(t[i]);
  const SmoothedSignals s = SmoothAndDifferentiate(t, samples, {.cutoff_hz = 10, .order = 4});
  double value = 0, rate = 0, acceleration = 0, edge_rate = 0;
  for (Eigen::Index i = 0; i < t.size(); ++i) {
    const bool interior = t[i] > 0.3 && t[i] < t[t.size() - 1] - 0.3;
    if (interior) {
      value = std::max(value, std::abs(s.value(i, 0) - x(t[i])));
      rate = std::max(rate, std::abs(s.rate(i, 0) - dx(t[i])));
      acceleration = std::max(acceleration, std::abs(s.acceleration(i, 0) - ddx(t[i])));
    } else {
      edge_rate = std::max(edge_rate, std::abs(s.rate(i, 0) - dx(t[i])));
    }
  }
  // Peak rate 1.5 rad/s, peak acceleration 9.8 rad/s^2: errors far below the signals (no lag, no gain loss).
  EXPECT_LT(value, 1e-4);
  EXPECT_LT(rate, 2e-3);
  EXPECT_LT(acceleration, 3e-2);
  EXPECT_LT(edge_rate, 5e-2);  // within 0.3 s of the ends: the extension keeps them within 3 % of the peak rate
}

TEST(SignalFilter, StopsNoiseAndRingingAboveTheCutoff) {
  const VectorXd t = IrregularTimes(10000, 11);
  std::mt19937_64 rng(3);
  MatrixXd samples(t.size(), 2);
  for (Eigen::Index i = 0; i < t.size(); ++i) {
    samples(i, 0) = Normal(rng);                    // white noise, unit variance
    samples(i, 1) = std::sin(2 * kPi * 60 * t[i]);  // ringing at 60 Hz
  }
  const SmoothedSignals s = SmoothAndDifferentiate(t, samples, {.cutoff_hz = 10, .order = 4});
  const auto rms = [](const VectorXd& v) { return std::sqrt(v.squaredNorm() / static_cast<double>(v.size())); };
  // White noise at ~1 kHz keeps about sqrt(2 * 10 Hz * 0.9 / 1000 Hz) of its RMS.
  EXPECT_LT(rms(s.value.col(0)), 0.2);
  EXPECT_GT(rms(s.value.col(0)), 0.05);
  // A tone sampled irregularly and interpolated onto the grid folds part of itself into the pass band (here ~2 %
  // of the 60 Hz tone's RMS): the grid step's price. Identification signals carry little above 20 Hz.
  EXPECT_LT(rms(s.value.col(1).segment(500, t.size() - 1000)), 0.03);
}

TEST(SignalFilter, RejectsTimesThatDoNotIncrease) {
  VectorXd t = IrregularTimes(100, 1);
  t[50] = t[49];
  EXPECT_THROW(SmoothAndDifferentiate(t, MatrixXd::Zero(100, 1)), std::invalid_argument);
  EXPECT_THROW(SmoothAndDifferentiate(t.head(2), MatrixXd::Zero(2, 1)), std::invalid_argument);
}

// ---- Base parameters ----

struct Panda {
  std::shared_ptr<const sim::Model> model = sim::LoadScene(PandaScene());
  const sim::RobotModel& robot = *model->robot;
  sim::RigidBodyDynamics dynamics{robot, model->sim.gravity_mps2};
  std::vector<int> arm;
  std::vector<std::string> armature_names;
  Panda() {
    for (int j = 1; j <= 7; ++j) {
      arm.push_back(robot.FindDof("panda_joint" + std::to_string(j)));
      armature_names.push_back("robot.panda_joint" + std::to_string(j) + ".armature");
    }
  }
  BaseParameters Base() const { return FindBaseParameters(robot, dynamics, arm, arm, armature_names, robot.initial_q); }
};

TEST(BaseParameters, ReproduceTheFullRegressorWithFewerIndependentColumns) {
  const Panda panda;
  const BaseParameters base = panda.Base();
  const auto n = static_cast<Eigen::Index>(base.standard_names.size());
  EXPECT_EQ(n, 10 * panda.dynamics.num_links() + 7);
  std::printf("%d base parameters of %lld standard ones\n", base.size(), static_cast<long long>(n));
  std::vector<std::string> armatures;
  for (int k = 0; k < base.size(); ++k) {
    if (base.name(k).ends_with(".armature")) armatures.push_back(base.name(k));
  }
  // The Panda arm (7 revolute joints, a rigid gripper) has 43 base inertial parameters, plus the armatures that do
  // not merge: joints 1 and 2 merge theirs with their links' inertia about the joint axis (joint 1 is vertical,
  // joint 2 perpendicular to it, so that inertia only ever acts as Izz qdd on its own joint).
  EXPECT_EQ(base.size() - static_cast<int>(armatures.size()), 43);
  EXPECT_EQ(armatures, (std::vector<std::string>{"robot.panda_joint3.armature", "robot.panda_joint4.armature",
                                                 "robot.panda_joint5.armature", "robot.panda_joint6.armature",
                                                 "robot.panda_joint7.armature"}));
  std::mt19937_64 rng(5);
  MatrixXd stacked(7 * 30, base.size());
  for (int s = 0; s < 30; ++s) {
    VectorXd q = panda.robot.initial_q, qd = VectorXd::Zero(q.size()), qdd = VectorXd::Zero(q.size());
    for (int d : panda.arm) {
      q[d] = -2 + 4 * Uniform(rng);
      qd[d] = -1 + 2 * Uniform(rng);
      qdd[d] = -5 + 10 * Uniform(rng);
    }
    const MatrixXd full = MeasuredRegressor(panda.dynamics, panda.arm, q, qd, qdd);
    const VectorXd pi = VectorXd::NullaryExpr(n, [&](Eigen::Index) { return Normal(rng); });
    const MatrixXd reduced = base.Reduce(full);
    EXPECT_LT((full * pi - reduced * (base.combination * pi)).cwiseAbs().maxCoeff(), 1e-9);
    stacked.middleRows(7 * s, 7) = reduced;
  }
  // Minimal: the base columns are independent on states the selection never saw.
  const Eigen::JacobiSVD<MatrixXd> svd(stacked);
  EXPECT_GT(svd.singularValues().minCoeff(), 1e-6 * svd.singularValues().maxCoeff());
  // Known regroupings: link 1's mass never reaches a joint torque; joint 1's armature merges with link 1's Izz.
  const auto index = [&](const std::string& name) {
    return static_cast<int>(std::find(base.standard_names.begin(), base.standard_names.end(), name) -
                            base.standard_names.begin());
  };
  EXPECT_TRUE((base.combination.col(index("panda_link1.m")).array() == 0).all());
  EXPECT_FALSE(base.Alone(index("robot.panda_joint1.armature")));
  const int izz1 = index("panda_link1.Izz");
  ASSERT_TRUE(std::count(base.independent.begin(), base.independent.end(), izz1));
  for (int k = 0; k < base.size(); ++k) {
    if (base.independent[k] != izz1) continue;
    EXPECT_EQ(base.combination(k, index("robot.panda_joint1.armature")), 1.0) << base.Describe(k);
  }
}

// ---- The reference model ----

TEST(ReferenceModel, PublishedJsonMatchesTheReferenceUrdfPlusSigmoidFriction) {
  const ReferenceModel reference = ReferenceModel::Load(PublishedParams());
  ASSERT_EQ(reference.num_joints(), 7);
  sim::MeshCache meshes;
  sim::UrdfLoadOptions urdf_options;
  urdf_options.load_visuals = false;
  const sim::RobotModel urdf =
      sim::LoadUrdf(testing::SourceDir() / "scenes/panda_sysid/reference/panda_gaz2019_arm.urdf", urdf_options, meshes)
          .robot;
  const sim::RigidBodyDynamics dynamics(urdf, Eigen::Vector3d(0, 0, -9.81));
  std::ifstream in(PublishedParams());
  const auto friction = nlohmann::json::parse(in)["friction_sigmoid_TableI"];
  std::mt19937_64 rng(9);
  for (int s = 0; s < 20; ++s) {
    VectorXd q(7), qd(7), qdd(7);
    for (int j = 0; j < 7; ++j) q[j] = -2 + 4 * Uniform(rng), qd[j] = -1 + 2 * Uniform(rng), qdd[j] = Normal(rng);
    VectorXd expected = dynamics.InverseDynamics(q, qd, qdd);
    for (int j = 0; j < 7; ++j) {
      const double p1 = friction["phi1_Nm"][j], p2 = friction["phi2_s_per_rad"][j], p3 = friction["phi3_rad_per_s"][j];
      expected[j] += p1 / (1 + std::exp(-p2 * (qd[j] + p3))) - p1 / (1 + std::exp(-p2 * p3));
    }
    EXPECT_LT((reference.Torque(q, qd, qdd) - expected).cwiseAbs().maxCoeff(), 1e-8);
  }
}

TEST(ReferenceModel, BadFilesNameTheKey) {
  testing::TempDir dir;
  std::ifstream in(PublishedParams());
  nlohmann::json json = nlohmann::json::parse(in);
  json["link_params_p_hat_TableVIII_IX"]["mass_kg"][2] = -1.0;
  testing::WriteTextFile(dir / "negative.json", json.dump());
  json.erase("kinematics_modified_DH_Craig");
  testing::WriteTextFile(dir / "no_dh.json", json.dump());
  testing::WriteTextFile(dir / "broken.json", "{");
  const auto message = [](const std::filesystem::path& file) {
    try {
      ReferenceModel::Load(file);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(dir / "negative.json").find("link_params_p_hat_TableVIII_IX.mass_kg[2]"), std::string::npos)
      << message(dir / "negative.json");
  EXPECT_NE(message(dir / "no_dh.json").find("kinematics_modified_DH_Craig"), std::string::npos);
  EXPECT_NE(message(dir / "broken.json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(message(dir / "missing.json").find("cannot be opened"), std::string::npos);
}

// ---- Episodes: the real log, and synthetic ones built on it ----

RowMatrix Column(const episode::Episode& episode, const std::string& feature) {
  const episode::Array& a = episode.At(feature).data;
  const Eigen::Index rows = a.shape.at(0), cols = a.shape.size() > 1 ? a.shape[1] : 1;
  return Eigen::Map<const RowMatrix>(a.values<double>().data(), rows, cols);
}

void SetColumn(episode::Episode& episode, const std::string& feature, const RowMatrix& values) {
  episode::Array& a = episode.columns.at(feature).data;
  std::copy(values.data(), values.data() + values.size(), a.mutable_values<double>().begin());
}

ProblemInput LoadInput(const std::filesystem::path& dataset, const std::filesystem::path& scene = PandaScene()) {
  auto model = sim::LoadScene(scene);
  const auto reader = episode::DatasetReader::Open(dataset);
  ProblemInput input{model,
                     sim::ReplayPlan::Make(model, reader.info(), dataset.string()),
                     {},
                     dataset.string(),
                     model->scene_file.string()};
  for (std::int64_t i = 0; i < reader.num_episodes(); ++i) input.episodes.push_back(reader.ReadEpisode(i));
  return input;
}

// Writes `episode` (with the real log's info, features edited by `edit`) as an ALOHA dataset; returns its folder.
std::filesystem::path WriteDataset(const std::filesystem::path& folder, const episode::Episode& episode,
                                   const std::function<void(episode::DatasetInfo&)>& edit = {}) {
  episode::DatasetInfo info = episode::DatasetReader::Open(testing::BundledPandaEpisode()).info();
  if (edit) edit(info);
  auto writer = episode::DatasetWriter::Create(folder, info);
  writer.Append(episode);
  writer.Commit();
  return folder;
}

const FitParameter& Find(const FitResult& result, const std::string& name) {
  const auto it = std::find_if(result.parameters.begin(), result.parameters.end(),
                               [&](const FitParameter& p) { return p.name == name; });
  if (it == result.parameters.end()) throw std::runtime_error("no parameter " + name);
  return *it;
}

// Known joint friction of the synthetic robot (the tanh model of joint_dynamics.h): Coulomb from Gaz et al.'s
// sigmoid (phi1 / 2), viscous and offset from their linear table, viscous raised to at least 0.1 N m s/rad so that
// 2 % of it is a resolvable step, and a smooth sign over 0.05 rad/s (what the fit finds on the real log; Gaz et
// al.'s sigmoid, which has no viscous term, spreads it over 0.1-0.4 rad/s, where Coulomb and viscous friction
// trade off and neither is resolvable to 2 %).
struct TrueFriction {
  double coulomb, viscous, offset, velocity;
};
std::vector<TrueFriction> SyntheticFriction() {
  std::ifstream in(PublishedParams());
  const nlohmann::json json = nlohmann::json::parse(in);
  const auto& sigmoid = json["friction_sigmoid_TableI"];
  const auto& linear = json["friction_linear_TableIII_CLS"];
  std::vector<TrueFriction> out;
  for (int j = 0; j < 7; ++j) {
    out.push_back({sigmoid["phi1_Nm"][j].get<double>() / 2, std::max(0.1, linear["fv_Nm_s_per_rad"][j].get<double>()),
                   linear["fo_Nm"][j].get<double>(), 0.05});
  }
  return out;
}

// The synthetic robot: the scene's kinematics with Gaz et al.'s link 1-7 inertials (the gripper in link 7) and a
// massless gripper, as every pi layout of the scene's RigidBodyDynamics.
sim::RobotModel SyntheticRobot(const sim::RobotModel& scene) {
  std::ifstream in(PublishedParams());
  const auto links = nlohmann::json::parse(in)["link_params_p_hat_TableVIII_IX"];
  sim::RobotModel robot = scene;
  for (sim::Link& link : robot.links) link.inertial = sim::Inertial{};
  for (int j = 0; j < 7; ++j) {
    sim::Inertial& inertial = robot.links[robot.FindLink("panda_link" + std::to_string(j + 1))].inertial;
    inertial.mass_kg = links["mass_kg"][j];
    const auto c = links["com_m_in_link_frame"][j];
    inertial.com_m = Eigen::Vector3d(c[0], c[1], c[2]);
    const auto v = links["inertia_about_CoM_kgm2_[xx,xy,xz,yy,yz,zz]"][j];
    inertial.inertia_kgm2 << v[0], v[1], v[2], v[1], v[3], v[4], v[2], v[4], v[5];
  }
  return robot;
}

// A synthetic episode on the real log's trajectory and timestamps: torques of the synthetic robot plus known
// friction, then realistic corruption: torque noise (0.02 N m) and the log's quantization (0.0357 / 0.0064 N m),
// occasional torque spikes, position quantization (1e-6 rad), velocity noise (0.003 rad/s). With `locked_joint`,
// that joint is held still at its mean position (a brake), noise-free.
// `clean` receives the torques before corruption. With `wrist_coupling` c, joint 7's motor turns with joint 6
// (u7 = q7 + c q6): its friction acts on u7' and reaches joint 6 as c times it (docs/scenes.md, "Transmission").
episode::Episode SyntheticEpisode(const Panda& panda, int locked_joint = -1, RowMatrix* clean = nullptr,
                                  double wrist_coupling = 0) {
  const auto reader = episode::DatasetReader::Open(testing::BundledPandaEpisode());
  episode::Episode episode = reader.ReadEpisode(0);
  const RowMatrix t = Column(episode, "timestamp");
  RowMatrix q = Column(episode, "observation.state");
  if (locked_joint >= 0) q.col(locked_joint).setConstant(q.col(locked_joint).mean());
  const SmoothedSignals motion = SmoothAndDifferentiate(t.col(0), q, {.cutoff_hz = 5, .order = 4});
  const sim::RigidBodyDynamics truth(SyntheticRobot(panda.robot), panda.model->sim.gravity_mps2);
  const std::vector<TrueFriction> friction = SyntheticFriction();
  std::mt19937_64 rng(2019);
  const Eigen::Index n = q.rows();
  RowMatrix q_out(n, 7), qd_out(n, 7), tau_out(n, 7), tau_clean(n, 7);
  for (Eigen::Index i = 0; i < n; ++i) {
    VectorXd qf = panda.robot.initial_q, qdf = VectorXd::Zero(qf.size()), qddf = VectorXd::Zero(qf.size());
    for (int j = 0; j < 7; ++j) {
      qf[panda.arm[j]] = motion.value(i, j);
      qdf[panda.arm[j]] = motion.rate(i, j);
      qddf[panda.arm[j]] = motion.acceleration(i, j);
    }
    const VectorXd tau = truth.InverseDynamics(qf, qdf, qddf);
    VectorXd motor_friction(7);
    for (int j = 0; j < 7; ++j) {
      const TrueFriction& f = friction[j];
      const double u = qdf[panda.arm[j]] + (j == 6 ? wrist_coupling * qdf[panda.arm[5]] : 0.0);
      motor_friction[j] = f.coulomb * std::tanh(u / f.velocity) + f.viscous * u + f.offset;
    }
    for (int j = 0; j < 7; ++j) {
      const double v = qdf[panda.arm[j]];
      tau_clean(i, j) = tau[panda.arm[j]] + motor_friction[j] + (j == 5 ? wrist_coupling * motor_friction[6] : 0.0);
      double measured = tau_clean(i, j) + 0.02 * Normal(rng);
      if (Uniform(rng) < 0.002) measured += Uniform(rng) < 0.5 ? -3.0 : 3.0;  // a spike
      const double step = j < 4 ? 0.0357 : 0.0064;
      tau_out(i, j) = step * std::round(measured / step);
      q_out(i, j) = 1e-6 * std::round(qf[panda.arm[j]] / 1e-6);
      qd_out(i, j) = j == locked_joint ? 0.0 : v + 0.003 * Normal(rng);
    }
  }
  SetColumn(episode, "observation.state", q_out);
  SetColumn(episode, "observation.velocity", qd_out);
  SetColumn(episode, "observation.effort", tau_out);
  if (clean != nullptr) *clean = tau_clean;
  return episode;
}

// The true base parameters of the synthetic robot, by name.
std::map<std::string, double> TrueBaseParameters(const Panda& panda) {
  const BaseParameters base = panda.Base();
  const sim::RigidBodyDynamics truth(SyntheticRobot(panda.robot), panda.model->sim.gravity_mps2);
  VectorXd pi = VectorXd::Zero(static_cast<Eigen::Index>(base.standard_names.size()));
  pi.head(10 * truth.num_links()) = truth.InertialParameters();
  const VectorXd beta = base.combination * pi;
  std::map<std::string, double> out;
  for (int k = 0; k < base.size(); ++k) {
    const std::string& name = base.name(k);
    out[name.starts_with("robot.") ? name : "robot.base." + name] = beta[k];
  }
  return out;
}

TEST(JointDynamicsGroundTruth, RecoversFrictionAndBaseParametersFromTheRealTrajectory) {
  const Panda panda;
  testing::TempDir dir;
  RowMatrix clean;
  const ProblemInput input = LoadInput(WriteDataset(dir / "synthetic", SyntheticEpisode(panda, -1, &clean)));
  JointDynamicsOptions options;
  options.baseline = PublishedParams();
  // White torque noise averages over every sample: fit at 500 Hz (the default 200 Hz leaves friction ~1.5 % std).
  options.fit_rate_hz = 500;
  const FitResult result = FitJointDynamics(input, options);
  std::printf("ground truth fit: %.2f s, %d iterations, %s\n", result.wall_s, result.iterations,
              result.termination.c_str());
  EXPECT_TRUE(result.converged) << result.termination;

  const std::vector<TrueFriction> truth = SyntheticFriction();
  for (int j = 0; j < 7; ++j) {
    const std::string joint = "robot.panda_joint" + std::to_string(j + 1) + ".";
    const FitParameter& fc = Find(result, joint + "coulomb_friction");
    const FitParameter& fv = Find(result, joint + "viscous_friction");
    std::printf("joint %d: coulomb %.4f (true %.4f, std %.4f), viscous %.4f (true %.4f, std %.4f)\n", j + 1,
                fc.estimate, truth[j].coulomb, fc.std_dev, fv.estimate, truth[j].viscous, fv.std_dev);
    EXPECT_TRUE(fc.identified && fv.identified) << joint << fc.why_not_identified << fv.why_not_identified;
    EXPECT_NEAR(fc.estimate, truth[j].coulomb, 0.02 * truth[j].coulomb) << joint;
    EXPECT_NEAR(fv.estimate, truth[j].viscous, 0.02 * truth[j].viscous) << joint;
    EXPECT_NEAR(Find(result, joint + "torque_offset").estimate, truth[j].offset, 0.01) << joint;
  }
  // Base parameters: each identified one within 5 of its standard deviations (an honest covariance), and the
  // torque prediction on the held-out samples at the noise floor (noise 0.02 N m plus quantization).
  int checked = 0;
  for (const auto& [name, value] : TrueBaseParameters(panda)) {
    const FitParameter& p = Find(result, name);
    if (!p.identified) continue;
    ++checked;
    EXPECT_LE(std::abs(p.estimate - value), 5 * p.std_dev + 1e-6) << name << " = " << p.estimate << ", true " << value;
  }
  EXPECT_GE(checked, 40);
  // The held-out prediction against the torques before corruption: what the model gets wrong itself. The last
  // half second is left out: the log stops there, and with no samples after it the filter's acceleration is a
  // guess (the fit's and the generator's differ by up to a few rad/s^2; both models' predictions share it).
  ASSERT_EQ(result.predictions.size(), 7u);
  for (int j = 0; j < 7; ++j) {
    const HeldOutSeries& series = result.predictions[j];
    const auto n = static_cast<Eigen::Index>(series.predicted.size());
    const Eigen::Index inner = n - 500;
    const VectorXd error = Eigen::Map<const VectorXd>(series.predicted.data(), n) - clean.col(j).tail(n);
    const double rms = std::sqrt(error.head(inner).squaredNorm() / static_cast<double>(inner));
    std::printf(
        "%s: held-out RMS %.4f N m against the measured torque (published model %.3f); against the clean "
        "torque %.4f, %.4f with the last 0.5 s\n",
        series.channel.c_str(), result.held_out[j].rms, result.held_out[j].baseline_rms, rms,
        std::sqrt(error.squaredNorm() / static_cast<double>(n)));
    EXPECT_LT(rms, 0.05) << series.channel;
    EXPECT_LT(result.held_out[j].rms, result.held_out[j].baseline_rms) << series.channel;
  }
}

// The Panda scene with its wrist coupled as the synthetic episode's: a copy with a transmission section.
std::filesystem::path CoupledWristScene(const std::filesystem::path& dir, double coupling,
                                        const std::string& joints = "panda_joint6, panda_joint7") {
  std::filesystem::copy(PandaScene(), dir, std::filesystem::copy_options::recursive);
  std::ifstream in(dir / "scene.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("  bindings:");
  if (at == std::string::npos) throw std::logic_error("the Panda scene has no bindings section");
  text.insert(at, "  transmission:\n    - joints: [" + joints + "]\n      coupling: [[1, 0], [" +
                      std::to_string(coupling) + ", 1]]\n");
  testing::WriteTextFile(dir / "scene.yaml", text);
  return dir;
}

// An industrial wrist: joint 7's motor turns with joint 6. Declared in the scene, its friction is found on the
// motor and the wrist's torques are predicted to the noise; fitted as independent joints, the same data leave
// joint 6 with a residual far above the noise (what a real 6-axis arm's wrist showed: held-out R^2 < 0).
TEST(JointDynamicsGroundTruth, CoupledWristIsIdentifiedWithItsCoupling) {
  const Panda panda;
  testing::TempDir dir;
  const double coupling = 0.8;
  RowMatrix clean;
  const auto dataset = WriteDataset(dir / "coupled", SyntheticEpisode(panda, -1, &clean, coupling));
  JointDynamicsOptions options;
  options.fit_rate_hz = 500;
  const FitResult coupled = FitJointDynamics(LoadInput(dataset, CoupledWristScene(dir / "scene", coupling)), options);
  const FitResult independent = FitJointDynamics(LoadInput(dataset), options);
  EXPECT_TRUE(coupled.converged) << coupled.termination;
  const std::vector<TrueFriction> truth = SyntheticFriction();
  for (int j = 0; j < 7; ++j) {
    const std::string joint = "robot.panda_joint" + std::to_string(j + 1) + ".";
    const FitParameter& fc = Find(coupled, joint + "coulomb_friction");
    const FitParameter& fv = Find(coupled, joint + "viscous_friction");
    std::printf("motor %d: coulomb %.4f (true %.4f, std %.4f; independent joints %.4f), viscous %.4f (true %.4f)\n",
                j + 1, fc.estimate, truth[j].coulomb, fc.std_dev,
                Find(independent, joint + "coulomb_friction").estimate, fv.estimate, truth[j].viscous);
    EXPECT_TRUE(fc.identified && fv.identified) << joint;
    EXPECT_NEAR(fc.estimate, truth[j].coulomb, 0.02 * truth[j].coulomb) << joint;
    EXPECT_NEAR(fv.estimate, truth[j].viscous, 0.02 * truth[j].viscous) << joint;
  }
  // Held-out predictions against the torques before corruption (spikes and quantization left out), the last
  // half second excluded as in the test above.
  const auto clean_rms = [&](const FitResult& result, int j) {
    const HeldOutSeries& series = result.predictions[j];
    const auto n = static_cast<Eigen::Index>(series.predicted.size());
    const VectorXd error = Eigen::Map<const VectorXd>(series.predicted.data(), n) - clean.col(j).tail(n);
    return std::sqrt(error.head(n - 500).squaredNorm() / static_cast<double>(n - 500));
  };
  ASSERT_EQ(coupled.predictions.size(), 7u);
  ASSERT_EQ(independent.predictions.size(), 7u);
  for (int j : {5, 6}) {
    std::printf("joint %d held-out RMS against the clean torque: coupled %.4f, independent joints %.4f N m\n", j + 1,
                clean_rms(coupled, j), clean_rms(independent, j));
    EXPECT_LT(clean_rms(coupled, j), 0.05);
  }
  EXPECT_GT(clean_rms(independent, 5), 3 * clean_rms(coupled, 5));
}

TEST(JointDynamicsGroundTruth, LockedJointIsFlaggedNotConfidentlyWrong) {
  const Panda panda;
  testing::TempDir dir;
  const ProblemInput input = LoadInput(WriteDataset(dir / "locked", SyntheticEpisode(panda, /*locked_joint=*/6)));
  const FitResult result = FitJointDynamics(input, JointDynamicsOptions{});
  for (const char* field : {"coulomb_friction", "viscous_friction", "coulomb_velocity"}) {
    const FitParameter& p = Find(result, std::string("robot.panda_joint7.") + field);
    EXPECT_FALSE(p.identified) << p.name;
    EXPECT_NE(p.why_not_identified.find("barely moves"), std::string::npos) << p.why_not_identified;
    EXPECT_EQ(p.estimate, p.nominal);
  }
  // Joint 7's armature acts only through its own acceleration, which is zero.
  const FitParameter& armature = Find(result, "robot.panda_joint7.armature");
  EXPECT_FALSE(armature.identified);
  std::printf("joint 7 armature: %s\n", armature.why_not_identified.c_str());
  // What is still reported as identified is right within its uncertainty.
  const std::vector<TrueFriction> truth = SyntheticFriction();
  for (int j = 0; j < 6; ++j) {
    const FitParameter& fc = Find(result, "robot.panda_joint" + std::to_string(j + 1) + ".coulomb_friction");
    EXPECT_NEAR(fc.estimate, truth[j].coulomb, 0.02 * truth[j].coulomb) << fc.name;
  }
  int flagged = 0;
  for (const auto& [name, value] : TrueBaseParameters(panda)) {
    const FitParameter& p = Find(result, name);
    if (!p.identified) {
      ++flagged;
      std::printf("flagged %s: %s\n", name.c_str(), p.why_not_identified.c_str());
      continue;
    }
    EXPECT_LE(std::abs(p.estimate - value), 5 * p.std_dev + 1e-6) << name << " = " << p.estimate << ", true " << value;
  }
  std::printf("%d base parameters flagged\n", flagged);
}

TEST(JointDynamicsRealData, HeldOutTorqueAtOrBelowPublishedModel) {
  const ProblemInput input = LoadInput(testing::BundledPandaEpisode());
  JointDynamicsOptions options;
  options.baseline = PublishedParams();
  const FitResult result = FitJointDynamics(input, options);
  std::printf("real log: %.2f s, %d iterations, rank %d, condition %.3g, %s\n", result.wall_s, result.iterations,
              result.rank, result.condition_number, result.termination.c_str());
  for (const auto& w : result.warnings) std::printf("warning: %s\n", w.c_str());
  EXPECT_TRUE(result.converged) << result.termination;
  ASSERT_EQ(result.held_out.size(), 7u);
  ASSERT_EQ(result.predictions.size(), 7u);
  EXPECT_EQ(result.held_out_samples, 20544 - HeldOutSplit(20544, 0.3));
  EXPECT_GT(result.train_samples, HeldOutSplit(20544, 0.3) - 500);  // less the filter's edge at the start
  for (std::size_t j = 0; j < 7; ++j) {
    const ChannelFit& h = result.held_out[j];
    std::printf("%s: held-out RMS %.3f N m (published model %.3f), R2 %.4f; training RMS %.3f (published %.3f)\n",
                h.channel.c_str(), h.rms, h.baseline_rms, h.r2, result.train[j].rms, result.train[j].baseline_rms);
    EXPECT_EQ(h.channel, "panda_joint" + std::to_string(j + 1) + " torque");
    EXPECT_EQ(h.samples, result.held_out_samples);
    EXPECT_LE(h.rms, h.baseline_rms) << h.channel;
    EXPECT_GT(h.r2, 0.95) << h.channel;
    const HeldOutSeries& series = result.predictions[j];
    EXPECT_EQ(series.measured.size(), series.baseline.size());
    EXPECT_NEAR(series.time_s.front(), 14.7, 0.1);  // the last 30 % of a 21 s log
  }
  // Every parameter the scene takes is finite and within its bounds; masses positive.
  for (const FitParameter& p : result.parameters) {
    EXPECT_TRUE(std::isfinite(p.estimate)) << p.name;
    EXPECT_LE(p.lower, p.estimate) << p.name;
    EXPECT_GE(p.upper, p.estimate) << p.name;
    if (p.name.ends_with(".mass_kg")) {
      EXPECT_GT(p.estimate, 0) << p.name;
    }
  }

  // The scene's overlay: params.yaml through the real writer, reader and compiler. Its rigid body (the consistent
  // link inertials) with the fitted friction predicts the held-out torques about as well as the base parameters.
  testing::TempDir dir;
  sim::ParamsFile params;
  params.scene = "panda_sysid";
  for (const FitParameter& p : result.parameters) {
    if (p.overlays_scene) params.parameters.push_back({p.name, p.estimate, p.std_dev, p.lower, p.upper, p.identified});
  }
  sim::WriteParams(params, dir / "params.yaml");
  sim::SceneSpec spec = sim::LoadSceneSpec(PandaScene());
  sim::ApplyParams(sim::ReadParams(dir / "params.yaml"), dir / "params.yaml", spec);
  // The scene's nominal PD gains, on the real (lighter) wrist, need a finer step for explicit integration than its
  // 1 ms (the compiler refuses it otherwise); the inertials are what is checked here.
  spec.simulation.time_step_s = 1e-4;
  const auto fitted = sim::CompileScene(spec);
  const sim::RobotModel& robot = *fitted->robot;
  EXPECT_EQ(robot.links[robot.FindLink("panda_link3")].inertial.mass_kg,
            Find(result, "robot.panda_link3.mass_kg").estimate);
  EXPECT_EQ(robot.links[robot.FindLink("panda_link8")].inertial.inertia_kgm2, Eigen::Matrix3d::Zero());
  const sim::RigidBodyDynamics dynamics(robot, fitted->sim.gravity_mps2);
  const episode::Episode& episode = input.episodes[0];
  const RowMatrix t = Column(episode, "timestamp");
  const SmoothedSignals q = SmoothAndDifferentiate(t.col(0), Column(episode, "observation.state"), options.smoothing);
  const SmoothedSignals qd =
      SmoothAndDifferentiate(t.col(0), Column(episode, "observation.velocity"), options.smoothing);
  const RowMatrix tau = Column(episode, "observation.effort");
  const Eigen::Index split = HeldOutSplit(tau.rows(), 0.3);
  VectorXd squared = VectorXd::Zero(7);
  for (Eigen::Index i = split; i < tau.rows(); ++i) {
    VectorXd qf = robot.initial_q, qdf = VectorXd::Zero(qf.size()), qddf = VectorXd::Zero(qf.size());
    for (int j = 0; j < 7; ++j) qf[j] = q.value(i, j), qdf[j] = qd.value(i, j), qddf[j] = qd.rate(i, j);
    const VectorXd rigid = dynamics.InverseDynamics(qf, qdf, qddf);
    for (int j = 0; j < 7; ++j) {
      const std::string joint = "robot.panda_joint" + std::to_string(j + 1) + ".";
      const double v = qdf[j];
      const double friction = Find(result, joint + "coulomb_friction").estimate *
                                  std::tanh(v / Find(result, joint + "coulomb_velocity").estimate) +
                              Find(result, joint + "viscous_friction").estimate * v +
                              Find(result, joint + "torque_offset").estimate;
      squared[j] += std::pow(tau(i, j) - rigid[j] - friction, 2);
    }
  }
  for (int j = 0; j < 7; ++j) {
    const double rms = std::sqrt(squared[j] / static_cast<double>(tau.rows() - split));
    std::printf("panda_joint%d: held-out RMS %.3f N m with the overlaid link inertials\n", j + 1, rms);
    EXPECT_LT(rms, 1.05 * result.held_out[j].rms + 0.002) << j + 1;
  }
}

// ---- Bad input ----

std::string FitError(const ProblemInput& input, const JointDynamicsOptions& options = {}) {
  try {
    FitJointDynamics(input, options);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(JointDynamicsBadInput, MissingSignalsAreNamed) {
  testing::TempDir dir;
  const auto reader = episode::DatasetReader::Open(testing::BundledPandaEpisode());
  for (const std::string feature : {"observation.effort", "observation.state"}) {
    episode::Episode episode = reader.ReadEpisode(0);
    // An ALOHA file needs /observations/qpos or /action: without positions it keeps them as commands.
    episode.columns["action"] = episode.columns.at("observation.state");
    episode.columns.erase(feature);
    const auto dataset = WriteDataset(dir / feature, episode, [&](episode::DatasetInfo& info) {
      info.features["action"] = info.features.at("observation.state");
      info.storage_paths["action"] = "action";
      info.features.erase(feature);
      info.storage_paths.erase(feature);
    });
    const std::string message = FitError(LoadInput(dataset));
    EXPECT_NE(message.find(dataset.string()), std::string::npos) << message;
    if (feature == "observation.effort") {
      EXPECT_NE(message.find("measured joint torques"), std::string::npos) << message;
    } else {
      EXPECT_NE(message.find("panda_joint1 position"), std::string::npos) << message;
      EXPECT_NE(message.find("panda_joint7 position"), std::string::npos) << message;
    }
  }
}

TEST(JointDynamicsBadInput, NanTooFewSamplesAndStalledTimeAreNamed) {
  testing::TempDir dir;
  const auto reader = episode::DatasetReader::Open(testing::BundledPandaEpisode());
  {
    // Our writer refuses NaN; another tool's file may hold one.
    std::filesystem::copy_file(testing::BundledPandaEpisode(), dir / "nan.hdf5");
    const auto python = testing::RunPython(
        "import sys, h5py\nwith h5py.File(sys.argv[1], 'r+') as f: f['observations/effort'][1234, 2] = float('nan')",
        {(dir / "nan.hdf5").string()});
    ASSERT_EQ(python.exit_code, 0) << python.err;
    const std::string message = FitError(LoadInput(dir / "nan.hdf5"));
    EXPECT_NE(message.find("nan.hdf5"), std::string::npos) << message;
    EXPECT_NE(message.find("observation.effort[2]"), std::string::npos) << message;
    EXPECT_NE(message.find("frame 1234"), std::string::npos) << message;
    EXPECT_NE(message.find("nan"), std::string::npos) << message;
  }
  {
    episode::Episode episode = reader.ReadEpisode(0);
    RowMatrix t = Column(episode, "timestamp");
    t(500, 0) = t(499, 0);
    SetColumn(episode, "timestamp", t);
    const std::string message = FitError(LoadInput(WriteDataset(dir / "stalled", episode)));
    EXPECT_NE(message.find("timestamp"), std::string::npos) << message;
    EXPECT_NE(message.find("frame 500"), std::string::npos) << message;
  }
  {
    // 60 frames: 42 to fit, far fewer than the parameters need.
    episode::Episode episode = reader.ReadEpisode(0);
    for (auto& [name, column] : episode.columns) {
      column.data.shape[0] = 60;
      column.data.bytes.resize(static_cast<std::size_t>(column.data.size()) * 8);
    }
    episode.metadata.length = 60;
    const std::string message = FitError(LoadInput(WriteDataset(dir / "short", episode)));
    EXPECT_NE(message.find("needs at least"), std::string::npos) << message;
  }
}

// A motor that turns a measured joint but whose own torque is not recorded: its friction would sit unmodelled in
// the measured joint's torque. Refused, naming both joints.
TEST(JointDynamicsBadInput, ACoupledGroupMeasuredOnlyInPartIsNamed) {
  testing::TempDir dir;
  const std::filesystem::path scene =
      CoupledWristScene(dir / "scene", 0.5, "panda_joint7, panda_finger_joint1");  // finger motor turns joint 7
  const std::string message = FitError(LoadInput(testing::BundledPandaEpisode(), scene));
  EXPECT_NE(message.find("robot.transmission couples joint panda_joint7 with the motor of panda_finger_joint1"),
            std::string::npos)
      << message;
}

TEST(JointDynamicsBadInput, BaselineOfAnotherRobotIsNamedAndAnUnconvergedFitIsAResult) {
  testing::TempDir dir;
  const ProblemInput input = LoadInput(testing::BundledPandaEpisode());
  std::ifstream in(PublishedParams());
  nlohmann::json json = nlohmann::json::parse(in);
  json["joint_names"] = {"panda_joint1", "panda_joint2", "panda_joint3", "panda_joint4",
                         "panda_joint5", "panda_joint6", "elbow"};
  testing::WriteTextFile(dir / "other.json", json.dump());
  JointDynamicsOptions options;
  options.baseline = dir / "other.json";
  options.standard_parameters = false;
  const std::string message = FitError(input, options);
  EXPECT_NE(message.find("other.json"), std::string::npos) << message;
  EXPECT_NE(message.find("'elbow'"), std::string::npos) << message;

  JointDynamicsOptions stopped;
  stopped.max_iterations = 1;
  stopped.huber_threshold = 0.5;
  stopped.standard_parameters = false;
  const FitResult result = FitJointDynamics(input, stopped);
  EXPECT_FALSE(result.converged);
  EXPECT_NE(result.termination.find("Maximum number of iterations"), std::string::npos) << result.termination;
  EXPECT_EQ(result.held_out.size(), 7u);
}

}  // namespace
}  // namespace r2s::sysid
