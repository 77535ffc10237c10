#include "sim/actuator.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

ActuatorParams Gains() {
  ActuatorParams p;
  p.kp = 100;
  p.kd = 10;
  return p;
}

JointCommand Command(double position, double velocity = 0, double torque = 0, double feedforward = 0) {
  return JointCommand{position, velocity, torque, feedforward};
}

TEST(DriveTorque, PositionModeIsPdPlusFeedforward) {
  // kp (pos - q) + kd (vel - qd) + ff = 100 * 0.5 + 10 * (0.2 - 1.0) + 3
  EXPECT_DOUBLE_EQ(DriveTorque(Gains(), ControlMode::kPosition, Command(1.0, 0.2, 99.0, 3.0), 0.5, 1.0), 45.0);
}

TEST(DriveTorque, VelocityModeIgnoresPosition) {
  // kd (vel - qd) + ff = 10 * (2 - 0.5) - 1
  EXPECT_DOUBLE_EQ(DriveTorque(Gains(), ControlMode::kVelocity, Command(123.0, 2.0, 99.0, -1.0), 0.0, 0.5), 14.0);
}

TEST(DriveTorque, TorqueModeIsTorquePlusFeedforward) {
  EXPECT_DOUBLE_EQ(DriveTorque(Gains(), ControlMode::kTorque, Command(123.0, 45.0, 7.0, 0.5), 3.0, 4.0), 7.5);
}

TEST(DriveTorque, SaturatesAtEffortLimitInEveryMode) {
  ActuatorParams p = Gains();
  p.effort_limit = 20;
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kPosition, Command(10.0), 0.0, 0.0), 20.0);
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kPosition, Command(-10.0), 0.0, 0.0), -20.0);
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kVelocity, Command(0.0, -50.0), 0.0, 0.0), -20.0);
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kTorque, Command(0.0, 0.0, 15.0, 15.0), 0.0, 0.0), 20.0);
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kTorque, Command(0.0, 0.0, 15.0), 0.0, 0.0), 15.0);  // below the limit
}

TEST(DriveTorque, NoTorquePushingBeyondTheVelocityLimit) {
  ActuatorParams p = Gains();
  p.velocity_limit = 2.0;
  // At or beyond +limit: no torque that would accelerate further; braking torque passes.
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kTorque, Command(0, 0, 5.0), 0.0, 2.0), 0.0);
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kTorque, Command(0, 0, 5.0), 0.0, 2.5), 0.0);
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kTorque, Command(0, 0, -5.0), 0.0, 2.5), -5.0);
  // Below the limit: unchanged.
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kTorque, Command(0, 0, 5.0), 0.0, 1.9), 5.0);
  // Symmetric on the negative side.
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kTorque, Command(0, 0, -5.0), 0.0, -2.0), 0.0);
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kTorque, Command(0, 0, 5.0), 0.0, -3.0), 5.0);
  // A PD loop far from its target at top speed: 100 * 1 + 10 * (0 - 2.5) = 75 would push on: zeroed.
  EXPECT_DOUBLE_EQ(DriveTorque(p, ControlMode::kPosition, Command(1.0), 0.0, 2.5), 0.0);
}

TEST(ViscousTorque, OpposesVelocityWithViscousPlusDamping) {
  ActuatorParams p;
  p.viscous_friction = 0.5;
  p.damping = 1.5;
  EXPECT_DOUBLE_EQ(ViscousTorque(p, 3.0), -6.0);
  EXPECT_DOUBLE_EQ(ViscousTorque(p, -1.0), 2.0);
  EXPECT_DOUBLE_EQ(ViscousTorque(ActuatorParams{}, 10.0), 0.0);
}

TEST(CommandDelay, ZeroLatencyIsTheLatestCommand) {
  CommandDelay delay(0.0);
  EXPECT_EQ(delay.At(0.0).position, 0.0);  // nothing pushed: zeros
  delay.Push(0.0, Command(1.0));
  EXPECT_EQ(delay.At(0.0).position, 1.0);
  delay.Push(0.1, Command(2.0));
  EXPECT_EQ(delay.At(0.1).position, 2.0);
  EXPECT_EQ(delay.At(0.15).position, 2.0);  // zero-order hold
}

TEST(CommandDelay, HoldsEachCommandForLatencyThenSwitches) {
  CommandDelay delay(0.05);
  delay.Push(0.0, Command(1.0));
  delay.Push(0.1, Command(2.0));
  EXPECT_EQ(delay.At(0.0).position, 1.0);    // before the first command's time: the first command
  EXPECT_EQ(delay.At(0.12).position, 1.0);   // sees t = 0.07
  EXPECT_EQ(delay.At(0.149).position, 1.0);  // sees t = 0.099
  EXPECT_EQ(delay.At(0.15).position, 2.0);   // sees t = 0.1 exactly
  EXPECT_EQ(delay.At(1.0).position, 2.0);
}

TEST(CommandDelay, WholeStepLatencyIsExactDespiteRounding) {
  // 3 steps of 1/240 s: the command pushed at step 10 is seen at step 13, although 13 * dt - 3 * dt != 10 * dt
  // in floating point.
  const double dt = 1.0 / 240.0;
  CommandDelay delay(3 * dt);
  delay.Push(0.0, Command(0.0));
  delay.Push(10 * dt, Command(1.0));
  EXPECT_EQ(delay.At(12 * dt).position, 0.0);
  EXPECT_EQ(delay.At(13 * dt).position, 1.0);
}

TEST(CommandDelay, SameInstantReplacesAndAllFieldsTravel) {
  CommandDelay delay(0.0);
  delay.Push(0.5, Command(1.0, 2.0, 3.0, 4.0));
  delay.Push(0.5, Command(5.0, 6.0, 7.0, 8.0));
  EXPECT_EQ(delay.size(), 1u);
  const JointCommand c = delay.At(0.5);
  EXPECT_EQ(c.position, 5.0);
  EXPECT_EQ(c.velocity, 6.0);
  EXPECT_EQ(c.torque, 7.0);
  EXPECT_EQ(c.feedforward, 8.0);
}

TEST(CommandDelay, MemoryStaysBounded) {
  const double dt = 0.001;
  CommandDelay delay(0.02);  // 20 steps
  for (int k = 0; k < 10000; ++k) {
    delay.Push(k * dt, Command(k));
    EXPECT_EQ(delay.At(k * dt).position, std::max(0, k - 20)) << "step " << k;
  }
  EXPECT_LE(delay.size(), 22u);
}

TEST(CommandDelay, WholeStepLatencyWithAStepIsBitIdenticalToThePlainHold) {
  const double dt = 1.0 / 240.0;
  for (const double latency : {0.0, 3 * dt, 12 * dt, 0.05}) {  // 0.05 s is exactly 12 steps of 1/240 s
    CommandDelay plain(latency);
    CommandDelay stepped(latency, dt);
    for (int k = 0; k < 200; ++k) {
      if (k % 7 == 0) {
        plain.Push(k * dt, Command(std::sin(k), std::cos(k), k, -k));
        stepped.Push(k * dt, Command(std::sin(k), std::cos(k), k, -k));
      }
      const JointCommand a = plain.At(k * dt), b = stepped.At(k * dt);
      EXPECT_EQ(std::memcmp(&a, &b, sizeof(a)), 0) << "latency " << latency << " step " << k;
    }
    EXPECT_EQ(plain.size(), stepped.size());
  }
}

TEST(CommandDelay, FractionalLatencyBlendsTheTwoBracketingWholeStepDelays) {
  const double dt = 0.01;
  CommandDelay delay(2.25 * dt, dt);  // n = 2, f = 0.25
  delay.Push(0.0, Command(0.0, 0.0, 0.0, 0.0));
  delay.Push(10 * dt, Command(4.0, 8.0, 12.0, 16.0));
  EXPECT_EQ(delay.At(11 * dt).position, 0.0);
  // Step 12 sees the new command after 2 steps and the old one after 3: 0.75 new + 0.25 old.
  const JointCommand c = delay.At(12 * dt);
  EXPECT_DOUBLE_EQ(c.position, 3.0);
  EXPECT_DOUBLE_EQ(c.velocity, 6.0);
  EXPECT_DOUBLE_EQ(c.torque, 9.0);
  EXPECT_DOUBLE_EQ(c.feedforward, 12.0);
  EXPECT_EQ(delay.At(13 * dt).position, 4.0);  // both bracketing delays see the new command
  // Below one step: the blend of now and one step ago.
  CommandDelay short_delay(0.4 * dt, dt);
  short_delay.Push(0.0, Command(0.0));
  short_delay.Push(dt, Command(10.0));
  EXPECT_DOUBLE_EQ(short_delay.At(dt).position, 6.0);
  EXPECT_EQ(short_delay.At(2 * dt).position, 10.0);
}

TEST(CommandDelay, ResponseMovesContinuouslyAndMonotonicallyWithLatency) {
  // The command applied at each step after a unit step command, summed over steps (the drive's impulse lag), is
  // linear in the latency: it falls by exactly one per step of latency, with no jumps at whole steps.
  const double dt = 0.004;
  double previous = 0;
  for (int i = 0; i <= 400; ++i) {
    const double latency = i * 0.01 * dt;  // 0 .. 4 steps in hundredths of a step
    CommandDelay delay(latency, dt);
    delay.Push(0.0, Command(0.0));
    double applied = 0;
    for (int k = 1; k <= 20; ++k) {
      if (k == 1) delay.Push(k * dt, Command(1.0));
      applied += delay.At(k * dt).position;
    }
    EXPECT_NEAR(applied, 20.0 - latency / dt, 1e-9) << "latency " << latency;
    if (i > 0) {
      EXPECT_LT(applied, previous);
    }
    previous = applied;
  }
}

TEST(CommandDelay, FractionalLatencyMemoryStaysBounded) {
  const double dt = 0.001;
  CommandDelay delay(0.0205, dt);  // 20.5 steps
  for (int k = 0; k < 10000; ++k) {
    delay.Push(k * dt, Command(k));
    // Half of the command of 20 steps ago, half of that of 21 steps ago; the first command (0) before that.
    const double expected = k < 21 ? 0.0 : 0.5 * (k - 20) + 0.5 * (k - 21);
    EXPECT_DOUBLE_EQ(delay.At(k * dt).position, expected) << "step " << k;
  }
  EXPECT_LE(delay.size(), 23u);
}

TEST(CommandDelay, RejectsBadInput) {
  EXPECT_THROW(CommandDelay(-0.1), std::invalid_argument);
  EXPECT_THROW(CommandDelay(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(CommandDelay(0.1, -0.001), std::invalid_argument);
  EXPECT_THROW(CommandDelay(0.1, std::numeric_limits<double>::infinity()), std::invalid_argument);
  CommandDelay delay(0.0);
  delay.Push(1.0, Command(1.0));
  EXPECT_THROW(delay.Push(0.5, Command(2.0)), std::invalid_argument);
  delay.Clear();
  EXPECT_TRUE(delay.empty());
}

TEST(WorldLatency, FractionalLatencyMovesTheMotionContinuously) {
  // The XL330 pendulum (1 ms steps) after a step command at 5 ms: where it is 40 ms later, for latencies from 0 to 4 steps
  // in tenths of a step. Whole-step delays alone would leave it still within each step and jump between steps.
  const auto scene = LoadScene(r2s::testing::SourceDir() / "scenes/xl330_pendulum");
  const double dt = scene->sim.time_step_s;
  std::vector<double> reached;
  for (int i = 0; i <= 40; ++i) {
    auto model = std::make_shared<Model>(*scene);
    model->robot->actuators[0].latency_s = 0.1 * i * dt;
    model->robot->actuators[0].coulomb_friction = 0;  // stiction would hide the first, small drive torques
    World world(model);
    RobotCommand command;
    command.position = Eigen::VectorXd::Constant(1, 0.0);
    world.SetCommand(command);  // held from the start: the robot's first command
    world.Step(5);
    command.position[0] = 0.5;
    world.SetCommand(command);
    world.Step(40);
    reached.push_back(world.joint_positions()[0]);
  }
  const double total = reached.front() - reached.back();
  ASSERT_GT(total, 1e-4);
  for (int i = 1; i <= 40; ++i) {
    const double change = reached[i - 1] - reached[i];
    EXPECT_GT(change, 0) << "latency " << 0.1 * i << " steps";    // more latency, less progress: never flat
    EXPECT_LT(change, 0.1 * total) << "latency " << 0.1 * i << " steps";  // about 1/40 of the total: no jump
  }
}

}  // namespace
}  // namespace r2s::sim
