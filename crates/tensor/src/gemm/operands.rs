//! The GEMM's operands as raw strided matrices: [`Strided`] for A and B (read), [`CTile`]
//! for C (written, with its α and β). Both are plain pointer-and-strides values, copied into
//! every task; their transposes swap the two strides.

use crate::rectifier::Rectifier;

/// A matrix operand: pointer, row stride and column stride (in elements).
#[derive(Clone, Copy)]
pub(super) struct Strided {
    pub ptr: *const f32,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: the operands are only read, by tasks that end before the GEMM call returns.
unsafe impl Send for Strided {}
unsafe impl Sync for Strided {}

impl Strided {
    /// A matrix given as (pointer, row stride, column stride).
    pub(super) fn new((ptr, rs, cs): (*const f32, isize, isize)) -> Strided {
        Strided { ptr, rs, cs }
    }

    /// The address of element `(i, j)`.
    pub(super) unsafe fn at(self, i: usize, j: usize) -> *const f32 {
        self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }

    /// The transposed view: the same elements with the two strides swapped.
    pub(super) fn t(self) -> Strided {
        Strided {
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }
}

/// Where a tile of C goes and how it is combined: `C ← α·AB + β·C` on `rows×cols`
/// elements at `c` with strides `rsc`, `csc`; then, if `bias` is not null, `C[i][j] ←
/// C[i][j] + bias[j]` and then the rectifier if any (see `bias`), once the whole of k is
/// summed.
#[derive(Clone, Copy)]
pub(super) struct CTile {
    pub c: *mut f32,
    pub rsc: isize,
    pub csc: isize,
    pub rows: usize,
    pub cols: usize,
    pub alpha: f32,
    pub beta: f32,
    /// The bias row's element for the tile's first column, or null for no bias.
    pub bias: *const f32,
    /// The rectifier applied after the bias (only with a bias).
    pub rectifier: Option<Rectifier>,
}

// SAFETY: tasks sharing a `CTile` write disjoint elements of C, and end before the GEMM
// call returns.
unsafe impl Send for CTile {}
unsafe impl Sync for CTile {}

impl CTile {
    /// `Cᵀ`: the same elements with rows and columns (and their strides) swapped. A bias
    /// row of C would be a column of `Cᵀ`, so only a tile without one is transposed.
    pub(super) fn t(self) -> CTile {
        debug_assert!(
            self.bias.is_null() && self.rectifier.is_none(),
            "a tile with a bias row is not transposed"
        );
        CTile {
            rsc: self.csc,
            csc: self.rsc,
            rows: self.cols,
            cols: self.rows,
            ..self
        }
    }

    /// The tile `rows×cols` whose corner is element `(i, j)`.
    pub(super) unsafe fn sub(self, i: usize, j: usize, rows: usize, cols: usize) -> CTile {
        CTile {
            c: self.c.offset(i as isize * self.rsc + j as isize * self.csc),
            rows,
            cols,
            bias: if self.bias.is_null() {
                self.bias
            } else {
                self.bias.add(j)
            },
            ..self
        }
    }

    /// `C[i][j] ← α·x + β·C[i][j]` for one element, rounded as `(α·x) + (β·C)` (`α·x` alone
    /// when `β = 0`, which never reads C): the kernels' vector stores round the same way.
    pub(super) unsafe fn store_one(&self, i: usize, j: usize, x: f32) {
        let ptr = self.c.offset(i as isize * self.rsc + j as isize * self.csc);
        let ab = self.alpha * x;
        *ptr = if self.beta == 0.0 {
            ab
        } else {
            ab + self.beta * *ptr
        };
    }
}
