//! The objectives of GAN theory, as critic and generator losses of the critic's raw
//! outputs ("logits") `v_r = D(x_real)` and `v_f = D(G(z))`.
//!
//! Every loss is written with `softplus` where a logarithm of a sigmoid appears
//! (`−log σ(v) = softplus(−v)`, `−log(1 − σ(v)) = softplus(v)`), so it is exact and finite
//! for logits of ±1e4. All losses are minimized (the critic's maximization is negated).
//!
//! | objective | critic loss | generator loss | source |
//! |---|---|---|---|
//! | Minimax | E softplus(−v_r) + E softplus(v_f) | −E softplus(v_f) = E log(1 − σ(v_f)) | Goodfellow et al. 2014 |
//! | NonSaturating | same | E softplus(−v_f) = −E log σ(v_f) | Goodfellow et al. 2014, §3 |
//! | Wasserstein | E v_f − E v_r | −E v_f | Arjovsky et al. 2017 |
//! | Hinge | E relu(1 − v_r) + E relu(1 + v_f) | −E v_f | Lim & Ye 2017; Miyato et al. 2018 |
//! | LeastSquares | ½E(v_r − 1)² + ½E v_f² | ½E(v_f − 1)² | Mao et al. 2017 (a=0, b=c=1) |
//! | Relativistic | E softplus(−(v_r − Ē v_f)) + E softplus(v_f − Ē v_r) | the same with real and fake swapped | Jolicoeur-Martineau 2018 (RaSGAN) |
//! | RelativisticPaired | E softplus(−(v_r − v_f)), pairing the i-th real and fake sample | E softplus(−(v_f − v_r)) | Jolicoeur-Martineau 2018 (RSGAN) |
//! | RelativisticLeastSquares | E (v_r − Ē v_f − 1)² + E (v_f − Ē v_r + 1)² | the same with real and fake swapped | Jolicoeur-Martineau 2018 (RaLSGAN) |
//! | RelativisticHinge | E relu(1 − (v_r − Ē v_f)) + E relu(1 + (v_f − Ē v_r)) | the same with real and fake swapped | Jolicoeur-Martineau 2018 (RaHingeGAN) |
//! | FDivergence | −(E g_f(v_r) − E f*(g_f(v_f))) | −E f*(g_f(v_f)) (saturating) or −E g_f(v_f) | Nowozin et al. 2016 |
//!
//! The relativistic losses are the paper's equations; its code halves the two-term ones,
//! which only rescales the gradients (and Adam's steps not at all, up to its ε).
//! RSGAN needs as many real as fake samples.
//!
//! With the optimal critic `D*(x) = p(x)/(p(x) + q(x))`, the minimax value
//! `E_P log D* + E_Q log(1 − D*)` equals `2·JS(P, Q) − log 4` (tested).

use std::fmt;
use std::str::FromStr;

use gantry_autograd::Var;
use gantry_tensor::Element;
use serde::{Deserialize, Serialize};

use crate::losses::divergence::Divergence;

/// A GAN objective. Parsed from and printed as `"minimax"`, `"non_saturating"`,
/// `"wasserstein"`, `"hinge"`, `"least_squares"`, `"relativistic"` (RaSGAN), `"rsgan"`,
/// `"ralsgan"`, `"rahinge"`, `"fgan:<divergence>"`
/// (e.g. `"fgan:kl"`) and `"fgan-ns:<divergence>"` (non-saturating generator).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Objective {
    /// The original minimax game with the saturating generator loss.
    Minimax,
    /// The minimax critic with the non-saturating generator loss `−log D(G(z))`.
    NonSaturating,
    /// The Kantorovich–Rubinstein dual of the Wasserstein-1 distance (the critic must be
    /// 1-Lipschitz: clip, penalize or spectrally normalize it).
    Wasserstein,
    /// The hinge loss of Geometric GAN / SNGAN.
    Hinge,
    /// Least-squares GAN.
    LeastSquares,
    /// Relativistic average GAN (RaSGAN).
    Relativistic,
    /// Relativistic standard GAN (RSGAN): each real sample against the fake one beside it.
    RelativisticPaired,
    /// Relativistic average least-squares GAN (RaLSGAN).
    RelativisticLeastSquares,
    /// Relativistic average hinge GAN (RaHingeGAN).
    RelativisticHinge,
    /// f-GAN's variational divergence minimization.
    FDivergence {
        /// Which f-divergence.
        divergence: Divergence,
        /// The generator maximizes `E_Q g_f(v_f)` instead of minimizing `−E_Q f*(g_f(v_f))`.
        non_saturating: bool,
    },
}

impl<'t> Objective {
    /// The critic's loss (to minimize).
    pub fn d_loss<E: Element>(&self, real: Var<'t, E>, fake: Var<'t, E>) -> Var<'t, E> {
        match self {
            Objective::Minimax | Objective::NonSaturating => {
                (-real).softplus().mean() + fake.softplus().mean()
            }
            Objective::Wasserstein => fake.mean() - real.mean(),
            Objective::Hinge => (-real + E::one()).relu().mean() + (fake + E::one()).relu().mean(),
            Objective::LeastSquares => {
                ((real - E::one()).square().mean() + fake.square().mean()) * half::<E>()
            }
            Objective::Relativistic => relativistic(real, fake),
            Objective::RelativisticPaired => (-(real - fake)).softplus().mean(),
            Objective::RelativisticLeastSquares => relativistic_least_squares(real, fake),
            Objective::RelativisticHinge => relativistic_hinge(real, fake),
            Objective::FDivergence { divergence, .. } => {
                -(critic_output(*divergence, real).mean()
                    - conjugate_of_output(*divergence, fake).mean())
            }
        }
    }

    /// The generator's loss (to minimize). `real` is used only by the relativistic loss.
    pub fn g_loss<E: Element>(&self, fake: Var<'t, E>, real: Var<'t, E>) -> Var<'t, E> {
        match self {
            Objective::Minimax => -fake.softplus().mean(),
            Objective::NonSaturating => (-fake).softplus().mean(),
            Objective::Wasserstein | Objective::Hinge => -fake.mean(),
            Objective::LeastSquares => (fake - E::one()).square().mean() * half::<E>(),
            Objective::Relativistic => relativistic(fake, real),
            Objective::RelativisticPaired => (-(fake - real)).softplus().mean(),
            Objective::RelativisticLeastSquares => relativistic_least_squares(fake, real),
            Objective::RelativisticHinge => relativistic_hinge(fake, real),
            Objective::FDivergence {
                divergence,
                non_saturating: false,
            } => -conjugate_of_output(*divergence, fake).mean(),
            Objective::FDivergence {
                divergence,
                non_saturating: true,
            } => -critic_output(*divergence, fake).mean(),
        }
    }

    /// Whether the generator's loss also needs the critic's values on real samples.
    pub fn is_relativistic(&self) -> bool {
        matches!(
            self,
            Objective::Relativistic
                | Objective::RelativisticPaired
                | Objective::RelativisticLeastSquares
                | Objective::RelativisticHinge
        )
    }

    /// Whether the critic's output estimates a Wasserstein distance (`E v_r − E v_f`).
    pub fn is_wasserstein(&self) -> bool {
        matches!(self, Objective::Wasserstein)
    }
}

fn half<E: Element>() -> E {
    E::from_f64_lossy(0.5)
}

/// RaSGAN's loss for the side whose samples `a` should look "more real than" `b` on
/// average: `E softplus(−(a − Ē b)) + E softplus(b − Ē a)`.
fn relativistic<'t, E: Element>(a: Var<'t, E>, b: Var<'t, E>) -> Var<'t, E> {
    (-(a - b.mean())).softplus().mean() + (b - a.mean()).softplus().mean()
}

/// RaLSGAN's loss for the side `a` that should lie 1 above `b`'s mean while `b` lies 1
/// below `a`'s: `E (a − Ē b − 1)² + E (b − Ē a + 1)²`.
fn relativistic_least_squares<'t, E: Element>(a: Var<'t, E>, b: Var<'t, E>) -> Var<'t, E> {
    (a - b.mean() - E::one()).square().mean() + (b - a.mean() + E::one()).square().mean()
}

/// RaHingeGAN's loss: `E relu(1 − (a − Ē b)) + E relu(1 + (b − Ē a))`.
fn relativistic_hinge<'t, E: Element>(a: Var<'t, E>, b: Var<'t, E>) -> Var<'t, E> {
    (-(a - b.mean()) + E::one()).relu().mean() + (b - a.mean() + E::one()).relu().mean()
}

/// The f-GAN critic `T = g_f(v)` on a tensor of logits (see [`Divergence::output_activation`]).
pub fn critic_output<'t, E: Element>(d: Divergence, v: Var<'t, E>) -> Var<'t, E> {
    let e = E::from_f64_lossy;
    match d {
        Divergence::TotalVariation => v.tanh() * e(0.5),
        Divergence::Kl | Divergence::Pearson => v,
        Divergence::ReverseKl => -(-v).exp(),
        Divergence::Neyman | Divergence::SquaredHellinger => -(-v).exp() + E::one(),
        Divergence::JensenShannon => -(-v).softplus() + e(std::f64::consts::LN_2),
        Divergence::Gan => -(-v).softplus(),
    }
}

/// `f*(g_f(v))`, simplified per divergence so that it is evaluated stably:
/// TV `½ tanh v`; KL `exp(v − 1)`; reverse KL `v − 1`; Pearson `v²/4 + v`;
/// Neyman `2 − 2e^{−v/2}`; squared Hellinger `eᵛ − 1`; JS `softplus(v) − log 2`;
/// GAN `softplus(v)`.
pub fn conjugate_of_output<'t, E: Element>(d: Divergence, v: Var<'t, E>) -> Var<'t, E> {
    let e = E::from_f64_lossy;
    match d {
        Divergence::TotalVariation => v.tanh() * e(0.5),
        Divergence::Kl => (v - E::one()).exp(),
        Divergence::ReverseKl => v - E::one(),
        Divergence::Pearson => v.square() * e(0.25) + v,
        Divergence::Neyman => -(v * e(-0.5)).exp() * e(2.0) + e(2.0),
        Divergence::SquaredHellinger => v.exp() - E::one(),
        Divergence::JensenShannon => v.softplus() - e(std::f64::consts::LN_2),
        Divergence::Gan => v.softplus(),
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Objective::Minimax => write!(f, "minimax"),
            Objective::NonSaturating => write!(f, "non_saturating"),
            Objective::Wasserstein => write!(f, "wasserstein"),
            Objective::Hinge => write!(f, "hinge"),
            Objective::LeastSquares => write!(f, "least_squares"),
            Objective::Relativistic => write!(f, "relativistic"),
            Objective::RelativisticPaired => write!(f, "rsgan"),
            Objective::RelativisticLeastSquares => write!(f, "ralsgan"),
            Objective::RelativisticHinge => write!(f, "rahinge"),
            Objective::FDivergence {
                divergence,
                non_saturating,
            } => {
                write!(
                    f,
                    "{}:{}",
                    if *non_saturating { "fgan-ns" } else { "fgan" },
                    divergence.name()
                )
            }
        }
    }
}

impl FromStr for Objective {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let simple = [
            Objective::Minimax,
            Objective::NonSaturating,
            Objective::Wasserstein,
            Objective::Hinge,
            Objective::LeastSquares,
            Objective::Relativistic,
            Objective::RelativisticPaired,
            Objective::RelativisticLeastSquares,
            Objective::RelativisticHinge,
        ];
        if let Some(o) = simple.iter().find(|o| o.to_string() == s) {
            return Ok(*o);
        }
        let (kind, name) = s.split_once(':').unwrap_or((s, ""));
        let divergence = Divergence::ALL.iter().find(|d| d.name() == name);
        match (kind, divergence) {
            ("fgan", Some(d)) => Ok(Objective::FDivergence {
                divergence: *d,
                non_saturating: false,
            }),
            ("fgan-ns", Some(d)) => Ok(Objective::FDivergence {
                divergence: *d,
                non_saturating: true,
            }),
            _ => {
                let names: Vec<&str> = Divergence::ALL.iter().map(|d| d.name()).collect();
                Err(format!(
                    "unknown objective '{s}' (expected minimax, non_saturating, wasserstein, hinge, \
                     least_squares, relativistic, rsgan, ralsgan, rahinge, fgan:<d> or fgan-ns:<d> with <d> one of {})",
                    names.join(", ")
                ))
            }
        }
    }
}

impl TryFrom<String> for Objective {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Objective> for String {
    fn from(o: Objective) -> String {
        o.to_string()
    }
}
