// The pieces every identification problem shares: fit metrics, the held-out split, identifiability and
// covariance (by hand and through ceres::Covariance), and the sim-in-the-loop fitter on a non-smooth cost.

#include <cmath>
#include <cstdio>
#include <random>

#include <ceres/ceres.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "sysid/fit_result.h"
#include "sysid/identify.h"
#include "sysid/joint_dynamics.h"
#include "sysid/object_fit.h"
#include "sysid/report.h"
#include "test_support.h"
#include "sysid/problem_input.h"
#include "sysid/sim_fit.h"
#include "sysid/uncertainty.h"

namespace r2s::sysid {
namespace {

TEST(MeasureFit, RmsAndR2) {
  const ChannelFit fit = MeasureFit("j1 torque", "N m", {1, 2, 3, 4}, {1, 2, 3, 6});
  EXPECT_EQ(fit.samples, 4);
  EXPECT_DOUBLE_EQ(fit.rms, 1.0);         // sqrt(4 / 4)
  EXPECT_DOUBLE_EQ(fit.r2, 1 - 4.0 / 5);  // SST about the mean 2.5 is 5
  EXPECT_TRUE(std::isnan(MeasureFit("c", "", {2, 2}, {2, 2}).r2));
  EXPECT_THROW(MeasureFit("c", "", {1, 2}, {1}), std::invalid_argument);
}

TEST(HeldOutSplit, LastFractionIsHeldOut) {
  EXPECT_EQ(HeldOutSplit(100, 0.3), 70);
  EXPECT_EQ(HeldOutSplit(10, 0.0), 10);
  EXPECT_EQ(HeldOutSplit(7, 0.3), 5);  // floor(2.1) = 2 frames held out
  EXPECT_THROW(HeldOutSplit(10, 1.0), std::invalid_argument);
}

// y = a + b t + noise, with a third parameter c the data do not depend on and a fourth d that only ever appears
// as a + d.
struct Line {
  Eigen::VectorXd t, y;
  Line() {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> noise(0, 0.1);
    t = Eigen::VectorXd::LinSpaced(200, 0, 2);
    y = (1.5 + 0.7 * t.array()).matrix();
    for (auto& v : y) v += noise(rng);
  }
  Eigen::MatrixXd Jacobian() const {  // columns a, b, c, d
    Eigen::MatrixXd j(t.size(), 4);
    j.col(0).setOnes();
    j.col(1) = t;
    j.col(2).setZero();
    j.col(3).setOnes();
    return j;
  }
};

// A misconfigured option is refused before any data are read, naming the options struct's field and the value
// (not a command-line flag: a library user set it).
TEST(FitOptions, AMisconfiguredOptionIsRefusedNamingItsField) {
  const auto message = [](const auto& fit) {
    try {
      fit();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  JointDynamicsOptions joint;
  joint.fit_rate_hz = 0;
  EXPECT_EQ(message([&] { FitJointDynamics(ProblemInput{}, joint); }),
            "JointDynamicsOptions::fit_rate_hz = 0, expected a finite rate > 0");
  joint = {};
  joint.smoothing.cutoff_hz = std::nan("");
  EXPECT_NE(message([&] { joint.Validate(); }).find("JointDynamicsOptions::smoothing.cutoff_hz = nan"),
            std::string::npos);
  joint = {};
  joint.common.held_out_fraction = 1;
  EXPECT_NE(message([&] { joint.Validate(); }).find("JointDynamicsOptions::common.held_out_fraction = 1"),
            std::string::npos);
  EXPECT_EQ(message([] { JointDynamicsOptions{}.Validate(); }), "no error");

  ObjectFitOptions object;
  object.relative_step = 0;
  EXPECT_EQ(message([&] { FitObjects(ProblemInput{}, object); }),
            "ObjectFitOptions::relative_step = 0, expected a step in (0, 1)");
  object = {};
  object.max_fit_episodes = -1;
  EXPECT_NE(message([&] { object.Validate(); }).find("ObjectFitOptions::max_fit_episodes = -1"), std::string::npos);
  EXPECT_EQ(message([] { ObjectFitOptions{}.Validate(); }), "no error");
}

TEST(AnalyzeJacobian, FlagsZeroSensitivityAndNullSpaceAndMatchesOls) {
  const Line line;
  const Eigen::MatrixXd j = line.Jacobian();
  const Uncertainty u = AnalyzeJacobian(j, 0.01, {"a", "b", "c", "d"}, Eigen::Vector4d::Ones());
  EXPECT_EQ(u.rank, 2);
  EXPECT_TRUE(std::isinf(u.condition_number));
  EXPECT_FALSE(u.identified[0]);  // a and d trade off
  EXPECT_TRUE(u.identified[1]);
  EXPECT_FALSE(u.identified[2]);
  EXPECT_FALSE(u.identified[3]);
  EXPECT_NE(u.why_not[2].find("zero sensitivity"), std::string::npos) << u.why_not[2];
  EXPECT_NE(u.why_not[0].find("trades off against d"), std::string::npos) << u.why_not[0];
  // b alone, a and d held: var(b) = s^2 / sum (t - 0)^2 ... with a held the design is t only.
  ASSERT_EQ(u.covariance.rows(), 1);
  EXPECT_NEAR(u.covariance(0, 0), 0.01 / line.t.squaredNorm(), 1e-15);
  EXPECT_NEAR(u.std_dev(1), std::sqrt(0.01 / line.t.squaredNorm()), 1e-12);
  EXPECT_TRUE(std::isnan(u.std_dev(0)));

  // Without the degenerate columns the covariance is OLS's s^2 (X^T X)^-1, and a and b warn as correlated only
  // when they are: on t in [0, 2] rho(a, b) = -0.87, below the 0.95 threshold.
  const Eigen::MatrixXd x = j.leftCols(2);
  const Uncertainty ols = AnalyzeJacobian(x, 0.01, {"a", "b"}, Eigen::Vector2d::Ones());
  const Eigen::Matrix2d expected = 0.01 * (x.transpose() * x).inverse();
  EXPECT_TRUE(ols.covariance.isApprox(expected, 1e-10));
  EXPECT_TRUE(ols.warnings.empty());
  // Far from the origin the intercept and slope are nearly collinear.
  Eigen::MatrixXd shifted = x;
  shifted.col(1).array() += 50;
  const Uncertainty correlated = AnalyzeJacobian(shifted, 0.01, {"a", "b"}, Eigen::Vector2d::Ones());
  ASSERT_EQ(correlated.warnings.size(), 1u);
  EXPECT_NE(correlated.warnings[0].find("a and b are strongly correlated"), std::string::npos);
}

struct LineResidual {
  const Line* line;
  template <typename T>
  bool operator()(const T* p, T* r) const {
    for (Eigen::Index i = 0; i < line->t.size(); ++i) r[i] = p[0] + p[1] * line->t(i) + p[2] * 0.0 + p[3] - line->y(i);
    return true;
  }
};

TEST(AnalyzeProblem, CeresCovarianceEqualsTheHandComputedOne) {
  const Line line;
  double p[4] = {0, 0, 0.3, 0.2};
  ceres::Problem problem;
  problem.AddResidualBlock(new ceres::AutoDiffCostFunction<LineResidual, 200, 4>(new LineResidual{&line}), nullptr,
                           p);
  ceres::Solver::Options options;
  options.logging_type = ceres::SILENT;
  ceres::Solver::Summary summary;
  ceres::Solve(options, &problem, &summary);
  const Uncertainty u = AnalyzeProblem(problem, p, {"a", "b", "c", "d"}, Eigen::Vector4d::Ones());
  EXPECT_FALSE(problem.HasManifold(p));  // the temporary subset manifold is gone
  EXPECT_EQ(u.identified, (std::vector<bool>{false, true, false, false}));
  double sse = 0;
  for (Eigen::Index i = 0; i < line.t.size(); ++i) {
    const double e = p[0] + p[1] * line.t(i) + p[3] - line.y(i);
    sse += e * e;
  }
  const double s2 = sse / (200 - 1);
  ASSERT_EQ(u.covariance.rows(), 1);
  EXPECT_NEAR(u.covariance(0, 0), s2 / line.t.squaredNorm(), 1e-9 * s2);

  FitResult result;
  std::vector<FitParameter> parameters(4);
  const char* names[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; ++i) {
    parameters[i].name = names[i];
    parameters[i].lower = -1;
    parameters[i].upper = 2;
  }
  StoreUncertainty(u, parameters, result);
  EXPECT_EQ(result.covariance_names, std::vector<std::string>{"b"});
  EXPECT_NEAR(parameters[0].std_dev, 3 / std::sqrt(12.0), 1e-12);  // the prior's uniform width
  EXPECT_FALSE(parameters[0].identified);
  EXPECT_FALSE(parameters[0].why_not_identified.empty());
}

// A block sliding to rest under Coulomb friction, stepped explicitly: the stopping time is quantised to steps, so
// the cost is piecewise flat at small scales; a 1e-2 relative step still sees the slope.
void SlidingBlock(const Eigen::VectorXd& x, Eigen::VectorXd& r, const Eigen::VectorXd& measured) {
  const double mu = x(0), v0 = x(1), unused = x(2);
  (void)unused;
  double p = 0, v = v0;
  const double dt = 1e-3;
  int k = 0;
  for (int frame = 0; frame < measured.size(); ++frame) {
    for (; k < (frame + 1) * 20; ++k) {
      const double a = v > 0 ? -mu * 9.81 : 0.0;
      v = std::max(0.0, v + a * dt);
      p += v * dt;
    }
    r(frame) = p - measured(frame);
  }
}

TEST(FitBySimulation, RecoversFrictionOnANonSmoothCostAndFlagsTheUnusedParameter) {
  Eigen::VectorXd measured(60);
  const Eigen::Vector3d truth(0.3, 1.2, 0.0);
  SlidingBlock(truth, measured, Eigen::VectorXd::Zero(60));
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 1e-4);
  for (auto& m : measured) m += noise(rng);

  const std::vector<BoundedParameter> parameters = {
      {"mu", "", 0.5, 0.05, 1.5, true}, {"v0", "m/s", 1.0, 0.5, 2.0, false}, {"unused", "", 0.5, 0, 1, false}};
  const ResidualFunction residual = [&](const Eigen::VectorXd& x, Eigen::VectorXd& r) {
    SlidingBlock(x, r, measured);
  };
  SimFitOptions options;
  options.global_samples = 32;
  options.seed = 11;
  const SimFitOutcome one = FitBySimulation(parameters, 60, residual, options);
  EXPECT_NEAR(one.x(0), 0.3, 0.3 * 0.01);
  EXPECT_NEAR(one.x(1), 1.2, 1.2 * 0.01);
  EXPECT_LE(one.cost, one.global_best_cost);
  EXPECT_FALSE(one.termination.empty());
  ASSERT_EQ(one.uncertainty.identified.size(), 3u);
  EXPECT_TRUE(one.uncertainty.identified[0]);
  EXPECT_TRUE(one.uncertainty.identified[1]);
  EXPECT_FALSE(one.uncertainty.identified[2]);
  EXPECT_GT(one.uncertainty.std_dev(0), 0);

  // Deterministic, whatever the thread count.
  options.threads = 2;
  const SimFitOutcome two = FitBySimulation(parameters, 60, residual, options);
  EXPECT_EQ(one.x, two.x);
  EXPECT_EQ(one.cost, two.cost);

  // A 1e-6 step cannot see the quantised stopping time: the fit stalls at its global-search start (the issue's
  // observation, kept here so the default is not "tuned" back down unnoticed).
  options.relative_step = 1e-6;
  options.global_samples = 8;
  const SimFitOutcome tiny = FitBySimulation(parameters, 60, residual, options);
  EXPECT_GT(std::abs(tiny.x(0) - 0.3), std::abs(one.x(0) - 0.3));
}

// A latency as the simulator's delay line applies it: held commands (a new level every 10 steps) delayed by L steps,
// blending the two whole-step delays that bracket L, so the cost is smooth in L only between whole steps. The data
// were made at L = 3 steps exactly, a kink. With try_kinks the fit ends on it exactly; without, Levenberg-Marquardt
// may stop a fraction of a step beside it (never lower).
void DelayedCommands(const Eigen::VectorXd& x, Eigen::VectorXd& r, const Eigen::VectorXd& measured) {
  const double levels[] = {0.0, 1.0, -0.5, 2.0, 0.3, -1.2, 0.8, 1.5, -0.2, 0.6, -0.9, 1.1};
  const auto command = [&](int k) { return k < 0 ? 0.0 : levels[(k / 10) % 12]; };
  const int n = static_cast<int>(std::floor(x(0)));
  const double f = x(0) - n;
  for (int k = 0; k < r.size(); ++k) {
    r(k) = x(1) * ((1 - f) * command(k - n) + f * command(k - n - 1)) - measured(k);
  }
}

TEST(FitBySimulation, TriesTheKinksOfAPiecewiseSmoothParameter) {
  Eigen::VectorXd measured(120);
  DelayedCommands(Eigen::Vector2d(3.0, 1.0), measured, Eigen::VectorXd::Zero(120));
  const std::vector<BoundedParameter> parameters = {{"latency", "steps", 1.4, 0, 8, false, 1.0},
                                                    {"gain", "", 0.8, 0.5, 2, false}};
  const ResidualFunction residual = [&](const Eigen::VectorXd& x, Eigen::VectorXd& r) {
    DelayedCommands(x, r, measured);
  };
  SimFitOptions options;
  options.global_samples = 8;
  options.refine_starts = 1;
  options.seed = 5;
  const SimFitOutcome plain = FitBySimulation(parameters, 120, residual, options);
  options.try_kinks = true;
  const SimFitOutcome kinks = FitBySimulation(parameters, 120, residual, options);
  EXPECT_EQ(kinks.x(0), 3.0) << "from " << plain.x(0);
  EXPECT_NEAR(kinks.x(1), 1.0, 1e-5);  // to Levenberg-Marquardt's parameter tolerance
  EXPECT_LT(kinks.cost, 1e-9);
  EXPECT_LE(kinks.cost, plain.cost);
  if (plain.x(0) != 3.0) {
    EXPECT_NE(kinks.termination.find("held at the whole step"), std::string::npos);
  }
  std::printf("without the kinks: latency %.6f steps, gain %.6f, cost %.3e\n", plain.x(0), plain.x(1), plain.cost);

  // The latency alone (the gain known): nothing else to refine, so the kinks' own costs decide.
  const ResidualFunction latency_only = [&](const Eigen::VectorXd& x, Eigen::VectorXd& r) {
    DelayedCommands(Eigen::Vector2d(x(0), 1.0), r, measured);
  };
  const SimFitOutcome alone = FitBySimulation({parameters[0]}, 120, latency_only, options);
  EXPECT_EQ(alone.x(0), 3.0);
  options.try_kinks = false;
  const SimFitOutcome alone_plain = FitBySimulation({parameters[0]}, 120, latency_only, options);
  if (alone_plain.x(0) != 3.0) {
    EXPECT_NE(alone.termination.find("the kink's cost"), std::string::npos) << alone.termination;
  }
  std::printf("the latency alone without the kinks: %.9f steps\n", alone_plain.x(0));
  EXPECT_LT(alone.cost, 1e-20);
}

// A gain `a` seen linearly and a parameter `b` seen through a step of width w: steep where the fit ends, flat a
// few widths away, where the cost has risen by less than the 95 % threshold. The Jacobian's interval on b is far
// too narrow; widen_to_flat_cost widens it (here to 4 half-widths: the next probe lies beyond a bound) and leaves `a`'s alone.
TEST(FitBySimulation, WidensTheIntervalWhereTheCostIsFlatterThanItsCurvature) {
  constexpr int kRows = 200;
  constexpr double kStepWidth = 0.05, kStepSize = 0.01, kNoise = 0.1;
  const auto model = [&](const Eigen::VectorXd& x, int i) {
    const double u = std::sin(0.1 * i), v = i % 2 == 0 ? 1.0 : -1.0;
    return x(0) * u + kStepSize * std::tanh((x(1) - 1.0) / kStepWidth) * v;
  };
  std::mt19937 random(7);
  std::normal_distribution<double> noise(0.0, kNoise);
  Eigen::VectorXd measured(kRows);
  for (int i = 0; i < kRows; ++i) measured(i) = model(Eigen::Vector2d(1.0, 1.0), i) + noise(random);
  const ResidualFunction residual = [&](const Eigen::VectorXd& x, Eigen::VectorXd& r) {
    for (int i = 0; i < kRows; ++i) r(i) = model(x, i) - measured(i);
  };
  const std::vector<BoundedParameter> parameters = {{"a", "", 0.8, 0, 3, false}, {"b", "", 1.1, 0, 3, false}};
  SimFitOptions options;
  options.global_samples = 16;
  options.refine_starts = 2;
  const SimFitOutcome plain = FitBySimulation(parameters, kRows, residual, options);
  options.widen_to_flat_cost = true;
  const SimFitOutcome widened = FitBySimulation(parameters, kRows, residual, options);
  ASSERT_TRUE(plain.uncertainty.identified[0] && plain.uncertainty.identified[1]);
  EXPECT_EQ(widened.x, plain.x);  // the estimate is not touched
  EXPECT_NEAR(widened.uncertainty.std_dev(0), plain.uncertainty.std_dev(0), 0.02 * plain.uncertainty.std_dev(0));
  EXPECT_GT(widened.uncertainty.std_dev(1), 3 * plain.uncertainty.std_dev(1));
  EXPECT_NE(widened.uncertainty.method.find("widened"), std::string::npos) << widened.uncertainty.method;
  EXPECT_NEAR(widened.uncertainty.covariance(1, 1), widened.uncertainty.std_dev(1) * widened.uncertainty.std_dev(1),
              1e-12);
  std::printf("b: %.4f, std %.4g linearized, %.4g widened\n", plain.x(1), plain.uncertainty.std_dev(1),
              widened.uncertainty.std_dev(1));

  // A linear model: the cost rises exactly as its curvature says, so nothing widens.
  const ResidualFunction linear = [&](const Eigen::VectorXd& x, Eigen::VectorXd& r) {
    for (int i = 0; i < kRows; ++i) r(i) = x(0) * std::sin(0.1 * i) + x(1) * (i % 2 == 0 ? 1.0 : -1.0) - measured(i);
  };
  options.widen_to_flat_cost = false;
  const SimFitOutcome linear_plain = FitBySimulation(parameters, kRows, linear, options);
  options.widen_to_flat_cost = true;
  const SimFitOutcome linear_widened = FitBySimulation(parameters, kRows, linear, options);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(linear_widened.uncertainty.std_dev(i), linear_plain.uncertainty.std_dev(i),
                1e-6 * linear_plain.uncertainty.std_dev(i));
  }
  EXPECT_EQ(linear_widened.uncertainty.method.find("widened"), std::string::npos);
}

TEST(FitBySimulation, RejectsBadBoundsAndPropagatesSimulationErrors) {
  const ResidualFunction zero = [](const Eigen::VectorXd&, Eigen::VectorXd& r) { r.setZero(); };
  EXPECT_THROW(FitBySimulation({{"k", "", 5, 0, 1, false}}, 3, zero), std::invalid_argument);
  EXPECT_THROW(FitBySimulation({{"k", "", 0.5, 0, 1, true}}, 3, zero), std::invalid_argument);
  const ResidualFunction failing = [](const Eigen::VectorXd&, Eigen::VectorXd&) {
    throw std::runtime_error("world exploded");
  };
  EXPECT_THROW(FitBySimulation({{"k", "", 0.5, 0, 1, false}}, 3, failing), std::runtime_error);
}

// A run with two problems, one with a baseline, as the problems fill it.
SysidRun TwoProblemRun() {
  SysidRun run;
  run.scene_name = "toy";
  run.dataset = "toy.hdf5";
  run.episodes = 2;
  FitResult joints;
  joints.problem = Problem::kJointDynamics;
  joints.parameters = {{"robot.j1.coulomb_friction", "N m", 0.5, 0.42, 0.01, 0, 5, true, "", true, {}, std::nan(""), std::nan("")},
                       {"robot.j1.torque_offset", "N m", 0, 0.1, 0.02, -1, 1, true, "", false, {}, std::nan(""), std::nan("")},
                       {"robot.j2.armature", "kg m^2", 0.1, 0.1, 0.14, 0, 0.5, false, "joint barely moves", true, {}, std::nan(""), std::nan("")}};
  joints.covariance_names = {"robot.j1.coulomb_friction", "robot.j1.torque_offset"};
  joints.covariance = (Eigen::Matrix2d() << 1e-4, 5e-5, 5e-5, 4e-4).finished();
  joints.termination = "Function tolerance reached.";
  joints.converged = true;
  HeldOutSeries s1{"j1 torque", "N m", 0, {0.7, 0.8, 0.9}, {1, 2, 3}, {1.1, 2.1, 2.9}, {1.2, 2.2, 3.3}};
  HeldOutSeries s2{"j2 torque", "N m", 0, {0.7, 0.8, 0.9}, {0, 0, 1}, {0, 0.1, 1}, {0, 0, 0}};
  joints.predictions = {s1, s2};
  joints.held_out = {MeasureFit("j1 torque", "N m", s1.measured, s1.predicted)};
  joints.held_out[0].baseline_rms = 0.2;
  FitResult objects;
  objects.problem = Problem::kObjects;
  objects.parameters = {{"objects.cube.restitution", "", 0.1, 0.2, 0.01, 0, 1, true, "", true, {}, std::nan(""), std::nan("")}};
  objects.covariance_names = {"objects.cube.restitution"};
  objects.covariance = Eigen::MatrixXd::Constant(1, 1, 1e-4);
  objects.predictions = {{"cube position x", "m", 1, {0.5}, {0.1}, {0.12}, {}}};
  run.results = {joints, objects};
  return run;
}

TEST(ToParamsFile, OnlyOverlayParametersWithTheirCovarianceBlocks) {
  const sim::ParamsFile file = ToParamsFile(TwoProblemRun());
  ASSERT_EQ(file.parameters.size(), 3u);  // the torque offset stays in the report
  EXPECT_EQ(file.parameters[0].name, "robot.j1.coulomb_friction");
  EXPECT_FALSE(file.parameters[1].identified);
  EXPECT_EQ(file.covariance_names, (std::vector<std::string>{"robot.j1.coulomb_friction", "objects.cube.restitution"}));
  EXPECT_EQ(file.covariance(0, 0), 1e-4);
  EXPECT_EQ(file.covariance(1, 1), 1e-4);
  EXPECT_EQ(file.covariance(0, 1), 0);
  EXPECT_EQ(file.metrics.at("joint_dynamics.held_out.j1_torque.baseline_rms"), 0.2);
  // And it is a params.yaml the scene loader reads back.
  testing::TempDir dir;
  sim::WriteParams(file, dir / "params.yaml");
  const sim::ParamsFile back = sim::ReadParams(dir / "params.yaml");
  EXPECT_EQ(back.parameters.size(), 3u);
  EXPECT_TRUE(back.covariance.isApprox(file.covariance));
}

TEST(WriteReport, PredictionsCsvFitJsonAndPlotsAndReplacesAWholeReport) {
  testing::TempDir dir;
  const auto report = dir / "report";
  std::filesystem::create_directories(report);
  { std::ofstream(report / "stale.txt") << "from an earlier run"; }
  WriteReport(TwoProblemRun(), report);
  EXPECT_FALSE(std::filesystem::exists(report / "stale.txt"));
  for (const char* f : {"index.html", "fit.json", "predictions.csv", "joint_dynamics_signals.png",
                        "joint_dynamics_residuals.png", "joint_dynamics_parameters.png", "objects_signals.png"}) {
    EXPECT_TRUE(std::filesystem::exists(report / f)) << f;
  }
  std::ifstream csv(report / "predictions.csv");
  std::vector<std::string> lines;
  for (std::string line; std::getline(csv, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);  // header, three joint samples, one object sample
  EXPECT_EQ(lines[0],
            "problem,episode,time_s,j1 torque measured [N m],j1 torque predicted [N m],j1 torque baseline [N m],"
            "j2 torque measured [N m],j2 torque predicted [N m],j2 torque baseline [N m],"
            "cube position x measured [m],cube position x predicted [m]");
  EXPECT_EQ(lines[1], "joint_dynamics,0,0.7,1,1.1,1.2,0,0,0,,");
  EXPECT_EQ(lines[4], "objects,1,0.5,,,,,,,0.1,0.12");
  const auto fit = nlohmann::json::parse(std::ifstream(report / "fit.json"));
  EXPECT_EQ(fit["results"][0]["parameters"][2]["why_not_identified"], "joint barely moves");
  std::ifstream html_file(report / "index.html");
  const std::string html((std::istreambuf_iterator<char>(html_file)), {});
  EXPECT_NE(html.find("joint barely moves"), std::string::npos);
  EXPECT_NE(html.find("Function tolerance reached."), std::string::npos);
  // Nothing else is left beside the report (no temporary folders).
  std::vector<std::string> beside;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) beside.push_back(entry.path().filename());
  EXPECT_EQ(beside, std::vector<std::string>{"report"});
}

}  // namespace
}  // namespace r2s::sysid
