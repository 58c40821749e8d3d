//! gantry-nn (work in progress).
