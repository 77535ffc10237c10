#include "sim/actuator.h"

#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

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

TEST(CommandDelay, RejectsBadInput) {
  EXPECT_THROW(CommandDelay(-0.1), std::invalid_argument);
  EXPECT_THROW(CommandDelay(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  CommandDelay delay(0.0);
  delay.Push(1.0, Command(1.0));
  EXPECT_THROW(delay.Push(0.5, Command(2.0)), std::invalid_argument);
  delay.Clear();
  EXPECT_TRUE(delay.empty());
}

}  // namespace
}  // namespace r2s::sim
