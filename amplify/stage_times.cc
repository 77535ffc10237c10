#include "amplify/stage_times.h"

namespace r2s::amplify {

StageSeconds& StageSeconds::operator+=(const StageSeconds& o) {
  draw_s += o.draw_s;
  sim_s += o.sim_s;
  render_s += o.render_s;
  sensor_s += o.sensor_s;
  write_s += o.write_s;
  return *this;
}

StageTimes& StageTimes::operator+=(const StageTimes& o) {
  wall += o.wall;
  cpu += o.cpu;
  return *this;
}

}  // namespace r2s::amplify
