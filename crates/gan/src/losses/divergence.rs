//! f-divergences, their Fenchel conjugates, and the output activations of f-GAN.
//!
//! An **f-divergence** (Ali & Silvey 1966; Csiszár 1967) compares two distributions P and Q
//! with densities p and q through a convex generator `f: [0, ∞) → ℝ` with `f(1) = 0`
//! (which makes `D_f(P ‖ P) = 0`, and `D_f ≥ 0` by Jensen's inequality):
//!
//! ```text
//! D_f(P ‖ Q) = ∫ q(x) · f(p(x) / q(x)) dx            (discrete: Σᵢ qᵢ · f(pᵢ / qᵢ))
//! ```
//!
//! The **Fenchel conjugate** `f*(t) = sup_{u ≥ 0} (t·u − f(u))` turns it into a supremum over
//! critics T (Nguyen, Wainwright & Jordan 2010):
//!
//! ```text
//! D_f(P ‖ Q) ≥ sup_T  E_P[T(x)] − E_Q[f*(T(x))],   with equality at T(x) = f′(p(x) / q(x)),
//! ```
//!
//! because `f*(f′(u)) = u·f′(u) − f(u)` (the Fenchel–Young equality). **f-GAN** (Nowozin,
//! Cseke & Tomioka 2016, "f-GAN: Training Generative Neural Samplers using Variational
//! Divergence Minimization", Table 2) trains a critic with raw output `v ∈ ℝ` and sets
//! `T = g_f(v)`, where the output activation `g_f` maps ℝ into `dom f*`. The critic maximises
//! and the generator minimises
//!
//! ```text
//! F(θ, ω) = E_P[g_f(V_ω(x))] − E_{Q_θ}[f*(g_f(V_ω(x)))].
//! ```
//!
//! The table (rederived here, each row checked by the tests against a numeric supremum):
//!
//! | divergence        | f(u)                              | g_f(v)                 | f*(t)            | dom f*     |
//! |-------------------|-----------------------------------|------------------------|------------------|------------|
//! | total variation   | ½·\|u − 1\|                       | ½·tanh v               | t                | \|t\| ≤ ½  |
//! | Kullback–Leibler  | u·log u                           | v                      | exp(t − 1)       | ℝ          |
//! | reverse KL        | −log u                            | −exp(−v)               | −1 − log(−t)     | t < 0      |
//! | Pearson χ²        | (u − 1)²                          | v                      | t²/4 + t         | ℝ          |
//! | Neyman χ²         | (1 − u)²/u                        | 1 − exp(−v)            | 2 − 2·√(1 − t)   | t ≤ 1      |
//! | squared Hellinger | (√u − 1)²                         | 1 − exp(−v)            | t/(1 − t)        | t < 1      |
//! | Jensen–Shannon    | −(u + 1)·log((1 + u)/2) + u·log u | log 2 − log(1 + e^(−v)) | −log(2 − exp t) | t < log 2  |
//! | GAN               | u·log u − (u + 1)·log(u + 1)      | −log(1 + e^(−v))       | −log(1 − exp t)  | t < 0      |
//!
//! Two rows carry a factor: this Jensen–Shannon generator gives `2·JS(P, Q)`, and the GAN
//! generator gives `2·JS(P, Q) − log 4` (Goodfellow et al. 2014's value of the minimax game).
//! The GAN row is the one whose `f(1)` is not 0 but `−log 4`: its "divergence" is an affine
//! function of one, minimal (not zero) at P = Q.
//! Logarithms are natural throughout, so divergences are in nats.
//!
//! Every function here is scalar `f64`: this module is the exact reference that objectives
//! computed on tensors are compared against.

use std::f64::consts::LN_2;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One of the eight f-divergences of f-GAN (Nowozin et al. 2016, Table 2).
///
/// Serialized in snake_case (`"total_variation"`, `"kl"`, `"reverse_kl"`, `"pearson"`,
/// `"neyman"`, `"squared_hellinger"`, `"jensen_shannon"`, `"gan"`), the same strings as
/// [`Divergence::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Divergence {
    /// Total variation: `f(u) = ½·|u − 1|`, so `D_f = ½·Σ|pᵢ − qᵢ|`.
    /// `f*(t) = t` on `|t| ≤ ½`; `g_f(v) = ½·tanh v`.
    TotalVariation,
    /// Kullback–Leibler: `f(u) = u·log u`, so `D_f = KL(P ‖ Q) = Σ pᵢ·log(pᵢ/qᵢ)`.
    /// `f*(t) = exp(t − 1)` on ℝ; `g_f(v) = v`.
    Kl,
    /// Reverse Kullback–Leibler: `f(u) = −log u`, so `D_f = KL(Q ‖ P)`.
    /// `f*(t) = −1 − log(−t)` on `t < 0`; `g_f(v) = −exp(−v)`.
    ReverseKl,
    /// Pearson χ²: `f(u) = (u − 1)²`, so `D_f = Σ (pᵢ − qᵢ)²/qᵢ`.
    /// `f*(t) = t²/4 + t` on ℝ; `g_f(v) = v`.
    Pearson,
    /// Neyman χ²: `f(u) = (1 − u)²/u`, so `D_f = Σ (pᵢ − qᵢ)²/pᵢ`.
    /// `f*(t) = 2 − 2·√(1 − t)` on `t ≤ 1`; `g_f(v) = 1 − exp(−v)`.
    Neyman,
    /// Squared Hellinger: `f(u) = (√u − 1)²`, so `D_f = Σ (√pᵢ − √qᵢ)²`.
    /// `f*(t) = t/(1 − t)` on `t < 1`; `g_f(v) = 1 − exp(−v)`.
    SquaredHellinger,
    /// Jensen–Shannon (times two): `f(u) = −(u + 1)·log((1 + u)/2) + u·log u`, so
    /// `D_f = KL(P ‖ M) + KL(Q ‖ M) = 2·JS(P, Q)` with `M = (P + Q)/2`.
    /// `f*(t) = −log(2 − exp t)` on `t < log 2`; `g_f(v) = log 2 − log(1 + exp(−v))`.
    JensenShannon,
    /// The original GAN objective: `f(u) = u·log u − (u + 1)·log(u + 1)`, so
    /// `D_f = 2·JS(P, Q) − log 4`. `f*(t) = −log(1 − exp t)` on `t < 0`;
    /// `g_f(v) = −log(1 + exp(−v)) = log σ(v)`, so `T` is the log-probability of "real" of a
    /// logistic discriminator (Goodfellow et al. 2014).
    Gan,
}

impl Divergence {
    /// All eight divergences, in the order of the module's table.
    pub const ALL: [Divergence; 8] = [
        Divergence::TotalVariation,
        Divergence::Kl,
        Divergence::ReverseKl,
        Divergence::Pearson,
        Divergence::Neyman,
        Divergence::SquaredHellinger,
        Divergence::JensenShannon,
        Divergence::Gan,
    ];

    /// The snake_case name, as used by serde and in config files (e.g. `"reverse_kl"`).
    pub fn name(self) -> &'static str {
        match self {
            Divergence::TotalVariation => "total_variation",
            Divergence::Kl => "kl",
            Divergence::ReverseKl => "reverse_kl",
            Divergence::Pearson => "pearson",
            Divergence::Neyman => "neyman",
            Divergence::SquaredHellinger => "squared_hellinger",
            Divergence::JensenShannon => "jensen_shannon",
            Divergence::Gan => "gan",
        }
    }

    /// The divergence called `name` (see [`Divergence::name`]), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The generator `f(u)`, convex on `[0, ∞)` with `f(1) = 0` (`−log 4` for GAN).
    ///
    /// At `u = 0` it returns the limit `f(0⁺)` (`+∞` for reverse KL and Neyman χ², since
    /// `−log u` and `1/u` blow up; `0` for KL and GAN, taking `0·log 0 = 0`). Negative `u` is
    /// outside the domain and gives NaN.
    pub fn f(self, u: f64) -> f64 {
        if u.is_nan() || u < 0.0 {
            return f64::NAN;
        }
        match self {
            Divergence::TotalVariation => 0.5 * (u - 1.0).abs(),
            Divergence::Kl => xlogx(u),
            Divergence::ReverseKl => -u.ln(),
            Divergence::Pearson => (u - 1.0) * (u - 1.0),
            Divergence::Neyman => (1.0 - u) * (1.0 - u) / u,
            Divergence::SquaredHellinger => (u.sqrt() - 1.0) * (u.sqrt() - 1.0),
            Divergence::JensenShannon => xlogx(u) - (u + 1.0) * ((1.0 + u) / 2.0).ln(),
            Divergence::Gan => xlogx(u) - xlogx(u + 1.0),
        }
    }

    /// The derivative `f′(u)`, the optimal critic value `T = f′(p/q)` at density ratio `u`.
    ///
    /// | divergence | f′(u) |
    /// |---|---|
    /// | total variation | ½·sign(u − 1), and 0 at the kink u = 1 |
    /// | KL | 1 + log u |
    /// | reverse KL | −1/u |
    /// | Pearson χ² | 2·(u − 1) |
    /// | Neyman χ² | 1 − 1/u² |
    /// | squared Hellinger | 1 − 1/√u |
    /// | Jensen–Shannon | log(2u/(1 + u)) |
    /// | GAN | log(u/(1 + u)) |
    ///
    /// At the total-variation kink any value of the subdifferential `[−½, ½]` satisfies the
    /// Fenchel–Young equality; 0 is its midpoint. Negative `u` gives NaN.
    pub fn f_prime(self, u: f64) -> f64 {
        if u.is_nan() || u < 0.0 {
            return f64::NAN;
        }
        match self {
            Divergence::TotalVariation => {
                if u > 1.0 {
                    0.5
                } else if u < 1.0 {
                    -0.5
                } else {
                    0.0
                }
            }
            Divergence::Kl => 1.0 + u.ln(),
            Divergence::ReverseKl => -1.0 / u,
            Divergence::Pearson => 2.0 * (u - 1.0),
            Divergence::Neyman => 1.0 - 1.0 / (u * u),
            Divergence::SquaredHellinger => 1.0 - 1.0 / u.sqrt(),
            Divergence::JensenShannon => (2.0 * u / (1.0 + u)).ln(),
            Divergence::Gan => u.ln() - u.ln_1p(),
        }
    }

    /// The slope at infinity `f′(∞) = lim_{u→∞} f(u)/u`.
    ///
    /// It prices mass that P puts where Q has none: the term of such a point in
    /// [`Divergence::divergence`] is `pᵢ·f′(∞)` (Csiszár's convention). It is also the upper
    /// end of `dom f*`: ½ (TV), +∞ (KL, Pearson), 0 (reverse KL, GAN), 1 (Neyman,
    /// Hellinger), log 2 (Jensen–Shannon).
    pub fn f_prime_at_infinity(self) -> f64 {
        match self {
            Divergence::TotalVariation => 0.5,
            Divergence::Kl | Divergence::Pearson => f64::INFINITY,
            Divergence::ReverseKl | Divergence::Gan => 0.0,
            Divergence::Neyman | Divergence::SquaredHellinger => 1.0,
            Divergence::JensenShannon => LN_2,
        }
    }

    /// The interval `dom f*` on which the conjugate is finite.
    ///
    /// The Neyman χ² conjugate is finite at its end point too (`f*(1) = 2`, a supremum
    /// approached as u → ∞), so its domain is `t ≤ 1`; Nowozin et al. list the open `t < 1`,
    /// which the output activation never leaves anyway.
    pub fn f_star_domain(self) -> Interval {
        use Endpoint::{Closed, Open, Unbounded};
        let (lower, upper) = match self {
            Divergence::TotalVariation => (Closed(-0.5), Closed(0.5)),
            Divergence::Kl | Divergence::Pearson => (Unbounded, Unbounded),
            Divergence::ReverseKl | Divergence::Gan => (Unbounded, Open(0.0)),
            Divergence::Neyman => (Unbounded, Closed(1.0)),
            Divergence::SquaredHellinger => (Unbounded, Open(1.0)),
            Divergence::JensenShannon => (Unbounded, Open(LN_2)),
        };
        Interval { lower, upper }
    }

    /// The Fenchel conjugate `f*(t) = sup_u (t·u − f(u))`; `+∞` outside
    /// [`Divergence::f_star_domain`] (NaN for NaN).
    ///
    /// Derivations (set the derivative of `t·u − f(u)` to zero, solve for `u*`, substitute):
    /// KL `u* = exp(t − 1)`; reverse KL `u* = −1/t`; Pearson `u* = 1 + t/2`; Neyman
    /// `u* = 1/√(1 − t)`; Hellinger `u* = 1/(1 − t)²`; Jensen–Shannon
    /// `u* = eᵗ/(2 − eᵗ)`; GAN `u* = eᵗ/(1 − eᵗ)`; total variation: the supremum of a
    /// piecewise-linear function, attained at `u* = 1`.
    ///
    /// Like Nowozin et al.'s table, the total-variation and Pearson rows are the conjugates of
    /// the formula for f extended to all of ℝ. Restricted to `u ≥ 0` the supremum differs only
    /// below `f′(0)` (for `t < −½`, TV gives `−½`; for `t < −2`, Pearson gives `−1`), which
    /// no optimal critic reaches; using the larger value there keeps the variational bound a
    /// lower bound.
    pub fn f_star(self, t: f64) -> f64 {
        if t.is_nan() {
            return f64::NAN;
        }
        if !self.f_star_domain().contains(t) {
            return f64::INFINITY;
        }
        match self {
            Divergence::TotalVariation => t,
            Divergence::Kl => (t - 1.0).exp(),
            Divergence::ReverseKl => -1.0 - (-t).ln(),
            Divergence::Pearson => 0.25 * t * t + t,
            Divergence::Neyman => 2.0 - 2.0 * (1.0 - t).sqrt(),
            Divergence::SquaredHellinger => t / (1.0 - t),
            Divergence::JensenShannon => -(2.0 - t.exp()).ln(),
            // 1 − eᵗ = −expm1(t), exact even for t near 0.
            Divergence::Gan => -(-t.exp_m1()).ln(),
        }
    }

    /// The output activation `g_f(v)`: maps a critic's raw output `v ∈ ℝ` into `dom f*`.
    ///
    /// Evaluated stably for any finite `v` (e.g. `|v| = 10⁴`): `log(1 + exp(−v))` as
    /// `softplus(−v)` and `1 − exp(−v)` as `−expm1(−v)`. Where the exact value lies closer to
    /// an open end of `dom f*` than `f64` can resolve (e.g. `−exp(−10⁴)` for reverse KL) or
    /// beyond the largest `f64`, the result is the nearest `f64` inside the domain
    /// ([`Interval::nearest_inside`]), so `f_star(output_activation(v))` is finite whenever
    /// the exact value fits in an `f64`. That composition is only accurate while the
    /// activation is not saturated: losses should use [`Divergence::f_star_of_activation`],
    /// which is accurate for every `v`.
    pub fn output_activation(self, v: f64) -> f64 {
        let t = match self {
            Divergence::TotalVariation => 0.5 * v.tanh(),
            Divergence::Kl | Divergence::Pearson => v,
            Divergence::ReverseKl => -(-v).exp(),
            Divergence::Neyman | Divergence::SquaredHellinger => -(-v).exp_m1(),
            Divergence::JensenShannon => LN_2 - softplus(-v),
            Divergence::Gan => -softplus(-v),
        };
        self.f_star_domain().nearest_inside(t)
    }

    /// `f*(g_f(v))`, the critic's penalty on fake samples, in closed form.
    ///
    /// | divergence | f*(g_f(v)) |
    /// |---|---|
    /// | total variation | ½·tanh v |
    /// | KL | exp(v − 1) |
    /// | reverse KL | v − 1 |
    /// | Pearson χ² | v²/4 + v |
    /// | Neyman χ² | 2 − 2·exp(−v/2) |
    /// | squared Hellinger | exp(v) − 1 |
    /// | Jensen–Shannon | softplus(v) − log 2 |
    /// | GAN | softplus(v) |
    ///
    /// (For GAN: `g_f(v) = log σ(v)`, so `f* = −log(1 − σ(v)) = −log σ(−v) = softplus(v)`.)
    /// With [`Divergence::output_activation`] this gives the f-GAN critic objective
    /// `E_P[g_f(v)] − E_Q[f*(g_f(v))]` without cancellation or overflow in the composition.
    pub fn f_star_of_activation(self, v: f64) -> f64 {
        match self {
            Divergence::TotalVariation => 0.5 * v.tanh(),
            Divergence::Kl => (v - 1.0).exp(),
            Divergence::ReverseKl => v - 1.0,
            Divergence::Pearson => 0.25 * v * v + v,
            Divergence::Neyman => 2.0 - 2.0 * (-0.5 * v).exp(),
            Divergence::SquaredHellinger => v.exp_m1(),
            Divergence::JensenShannon => softplus(v) - LN_2,
            Divergence::Gan => softplus(v),
        }
    }

    /// `D_f(P ‖ Q) = Σᵢ qᵢ·f(pᵢ/qᵢ)` for two discrete distributions given by their masses on
    /// the same points.
    ///
    /// The terms where a ratio is undefined take their limits (Csiszár's conventions):
    /// - `pᵢ = qᵢ = 0`: the term is 0 (the point is in neither support);
    /// - `qᵢ = 0 < pᵢ`: the term is `pᵢ·f′(∞)` ([`Divergence::f_prime_at_infinity`]), e.g.
    ///   `+∞` for KL and Pearson, `pᵢ·log 2` for Jensen–Shannon, 0 for reverse KL;
    /// - `pᵢ = 0 < qᵢ`: the term is `qᵢ·f(0⁺)`, e.g. `+∞` for reverse KL and Neyman, 0 for KL.
    ///
    /// The masses are used as given (no normalisation), so unnormalised inputs give the
    /// f-divergence of the two measures.
    ///
    /// # Panics
    /// If the lengths differ or a mass is negative or NaN.
    pub fn divergence(self, p: &[f64], q: &[f64]) -> f64 {
        check_masses("divergence", p, q);
        p.iter()
            .zip(q)
            .map(|(&pi, &qi)| {
                if qi == 0.0 {
                    if pi == 0.0 {
                        0.0
                    } else {
                        pi * self.f_prime_at_infinity()
                    }
                } else {
                    qi * self.f(pi / qi)
                }
            })
            .sum()
    }
}

impl fmt::Display for Divergence {
    /// Writes [`Divergence::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `KL(P ‖ Q) = Σᵢ pᵢ·log(pᵢ/qᵢ)` in nats, with `0·log(0/q) = 0` and `p·log(p/0) = +∞`
/// (Kullback & Leibler 1951).
///
/// # Panics
/// If the lengths differ or a mass is negative or NaN.
pub fn kl(p: &[f64], q: &[f64]) -> f64 {
    check_masses("kl", p, q);
    p.iter()
        .zip(q)
        .map(|(&pi, &qi)| {
            if pi == 0.0 {
                0.0
            } else if qi == 0.0 {
                f64::INFINITY
            } else {
                pi * (pi / qi).ln()
            }
        })
        .sum()
}

/// The Jensen–Shannon divergence in nats (Lin 1991):
/// `JS(P, Q) = ½·KL(P ‖ M) + ½·KL(Q ‖ M)` with `M = (P + Q)/2`.
///
/// Symmetric, always finite, and at most `log 2` for probability vectors, with equality
/// exactly when the supports are disjoint, however far apart they are: the reason the
/// original GAN's generator loses its gradient (Arjovsky & Bottou 2017).
///
/// # Panics
/// If the lengths differ or a mass is negative or NaN.
pub fn js_divergence(p: &[f64], q: &[f64]) -> f64 {
    check_masses("js_divergence", p, q);
    let m: Vec<f64> = p.iter().zip(q).map(|(&pi, &qi)| 0.5 * (pi + qi)).collect();
    0.5 * kl(p, &m) + 0.5 * kl(q, &m)
}

/// One end of an [`Interval`] of the real line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Endpoint {
    /// No bound on this side (−∞ or +∞, themselves excluded).
    Unbounded,
    /// A bound that the interval does not include.
    Open(f64),
    /// A bound that the interval includes.
    Closed(f64),
}

/// A non-empty interval of ℝ, such as `dom f*`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// The left end.
    pub lower: Endpoint,
    /// The right end.
    pub upper: Endpoint,
}

impl Interval {
    /// Whether `t` lies in the interval (never true for NaN or ±∞).
    pub fn contains(&self, t: f64) -> bool {
        let above_lower = match self.lower {
            Endpoint::Unbounded => t > f64::NEG_INFINITY,
            Endpoint::Open(a) => t > a,
            Endpoint::Closed(a) => t >= a,
        };
        let below_upper = match self.upper {
            Endpoint::Unbounded => t < f64::INFINITY,
            Endpoint::Open(b) => t < b,
            Endpoint::Closed(b) => t <= b,
        };
        above_lower && below_upper
    }

    /// The `f64` in the interval nearest to `t`: `t` itself when inside, else the closed end,
    /// the neighbouring float of an open end, or `±f64::MAX` for an unbounded side. NaN stays
    /// NaN.
    pub fn nearest_inside(&self, t: f64) -> f64 {
        if t.is_nan() {
            return t;
        }
        let t = match self.lower {
            Endpoint::Unbounded => t.max(f64::MIN),
            Endpoint::Open(a) if t <= a => next_up(a),
            Endpoint::Closed(a) => t.max(a),
            Endpoint::Open(_) => t,
        };
        match self.upper {
            Endpoint::Unbounded => t.min(f64::MAX),
            Endpoint::Open(b) if t >= b => -next_up(-b),
            Endpoint::Closed(b) => t.min(b),
            Endpoint::Open(_) => t,
        }
    }
}

impl fmt::Display for Interval {
    /// Interval notation, e.g. `(-∞, 0)` or `[-0.5, 0.5]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lower {
            Endpoint::Unbounded => write!(f, "(-∞, ")?,
            Endpoint::Open(a) => write!(f, "({a}, ")?,
            Endpoint::Closed(a) => write!(f, "[{a}, ")?,
        }
        match self.upper {
            Endpoint::Unbounded => write!(f, "∞)"),
            Endpoint::Open(b) => write!(f, "{b})"),
            Endpoint::Closed(b) => write!(f, "{b}]"),
        }
    }
}

/// `u·log u`, with its limit 0 at `u = 0`.
fn xlogx(u: f64) -> f64 {
    if u == 0.0 {
        0.0
    } else {
        u * u.ln()
    }
}

/// `softplus(x) = log(1 + exp x)`, written as `max(x, 0) + log1p(exp(−|x|))` so that it
/// neither overflows for large x nor loses the tail for very negative x.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The smallest `f64` greater than a finite `x` (`f64::next_up`, which is newer than the
/// workspace's minimum Rust version).
fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        f64::from_bits(1)
    } else if x > 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

/// Panics unless `p` and `q` are equally long vectors of non-negative masses.
fn check_masses(op: &str, p: &[f64], q: &[f64]) {
    assert!(
        p.len() == q.len(),
        "{op}: p has {} masses but q has {}",
        p.len(),
        q.len()
    );
    for (i, (&pi, &qi)) in p.iter().zip(q).enumerate() {
        assert!(
            pi >= 0.0 && qi >= 0.0,
            "{op}: masses must be non-negative, got p[{i}] = {pi}, q[{i}] = {qi}"
        );
    }
}
