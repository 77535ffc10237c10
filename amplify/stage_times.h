#pragma once
// Where making an episode spends its time, per stage.

namespace r2s::amplify {

struct StageSeconds {
  double draw_s = 0, sim_s = 0, render_s = 0, sensor_s = 0, write_s = 0;
  StageSeconds& operator+=(const StageSeconds& o);
};

// Time per stage of making an episode (or summed over episodes): wall-clock, and the CPU time of the thread that
// ran the stage (CLOCK_THREAD_CPUTIME_ID), so that a worker waiting for a core does not count as work. Work a
// driver does in threads of its own (lavapipe rasterizes on its own threads) is only in the process's total CPU
// time (summary.json's process_cpu_s).
struct StageTimes {
  StageSeconds wall, cpu;
  StageTimes& operator+=(const StageTimes& o);
};

}  // namespace r2s::amplify
