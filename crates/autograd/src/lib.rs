//! gantry-autograd (work in progress).
