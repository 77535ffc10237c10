#pragma once
// Problem 3: objects from their tracked poses (pushes, slides, drops, tosses), by simulation in the loop.
//
// Every free object whose pose binding the dataset feeds gets its contact values fitted: lateral friction,
// restitution, rolling friction (and spinning friction when asked), plus its mass where the mass can matter (another
// moving body shares the world: a second tracked object, or a driven robot). Each candidate runs the episodes in a
// Bullet world of its own, from each episode's first frames, and the residual is the tracked bodies' displacement
// from their measured poses over the fitted frames; the last held_out_fraction of each episode is predicted by
// running on, beside the scene's nominal values as the baseline. The .cc says what the world holds and why.

#include <optional>
#include <string>

#include "sysid/fit_result.h"
#include "sysid/problem_input.h"

namespace r2s::sysid {

struct ObjectFitOptions {
  CommonFitOptions common;
  // Rolling friction: fitted for objects that can roll (a sphere, cylinder or mesh among their collision shapes) when
  // unset. A box does not roll: its rolling friction only damps pivoting on an edge, which restitution explains as
  // well (on synthetic tosses the two trade off and pulled restitution 2.6 % off), so it is held at nominal.
  std::optional<bool> fit_rolling_friction;
  // Off by default: Bullet applies spinning friction only where rolling friction is on, and a box's contact manifold
  // already resists spin about the normal through lateral friction at its corners (see the .cc).
  bool fit_spinning_friction = false;
  // Episodes fitted, in dataset order (0: all). Each costs one simulated episode per evaluation; the held-out
  // prediction still runs every episode.
  int max_fit_episodes = 0;
  // Cauchy loss scale on each frame's displacement (m): a frame that drifted by much more counts ~logarithmically.
  // 0: plain least squares.
  double robust_scale_m = 0.005;
  // Global search and refinement (FitBySimulation); `common.quick` lowers them and skips the second search.
  int global_samples = 48;
  int refine_starts = 2;
  int max_iterations = 25;
  // Finite-difference step relative to each parameter's scale: wider than FitBySimulation's default, because a
  // tumbling toss makes the cost jump at the scale of 1 % (measured: 1 % steps stalled restitution 7 % off, 4 % steps
  // recovered it within 2 %).
  double relative_step = 0.04;
  // A second search, `refine_samples` points in a box of +-refine_width (relative) around the first solution
  // (0: none).
  double refine_width = 0.15;
  int refine_samples = 24;
  // Points of the scan of each identified parameter over its bounds, the others at the estimate, that finds other
  // basins of the rugged cost: flagged, and reached by the interval when as deep as the fit's (see the .cc); 0: none.
  int profile_points = 16;
  FitProgress progress;  // called between stages (search, refinement, basin scan, predictions); may be empty

  // Throws std::invalid_argument naming the field and value ("ObjectFitOptions::relative_step = 0, expected ...").
  // FitObjects calls it first.
  void Validate() const;
  // Whether Validate() passes; else *why (when given) names the field and value. Validate() throws that as
  // std::invalid_argument.
  bool IsValid(std::string* why = nullptr) const;
};

// Throws InputError (naming the dataset, the feature and the value) when the dataset feeds no object pose, an
// episode is too short, or a pose holds NaN or a zero quaternion.
FitResult FitObjects(const ProblemInput& input, const ObjectFitOptions& options);

}  // namespace r2s::sysid
