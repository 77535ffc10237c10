#include "amplify/summary_json.h"

namespace r2s::amplify {

using nlohmann::json;

json SecondsJson(const StageSeconds& t) {
  return json{{"draw_s", t.draw_s}, {"sim_s", t.sim_s}, {"render_s", t.render_s}, {"sensor_s", t.sensor_s},
              {"write_s", t.write_s}};
}

StageSeconds SecondsFrom(const json& j) {
  StageSeconds t;
  t.draw_s = j.value("draw_s", 0.0);
  t.sim_s = j.value("sim_s", 0.0);
  t.render_s = j.value("render_s", 0.0);
  t.sensor_s = j.value("sensor_s", 0.0);
  t.write_s = j.value("write_s", 0.0);
  return t;
}

}  // namespace r2s::amplify
