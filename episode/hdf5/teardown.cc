#include <hdf5.h>

#include "episode/hdf5_teardown.h"

namespace r2s::episode {

void SkipHdf5TeardownAtExit() { H5dont_atexit(); }

}  // namespace r2s::episode
