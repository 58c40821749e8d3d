//! The class cross-entropy of AC-GAN (Odena et al. 2017, "Conditional image synthesis with
//! auxiliary classifier GANs"): the critic's auxiliary head predicts each sample's class,
//! and both networks minimize its cross-entropy (the critic on real and fake samples, the
//! generator on its fakes, each weighted by `acgan_weight`).

use gantry_autograd::Var;
use gantry_tensor::Element;

/// Mean cross-entropy of class logits `ℓ: [n, K]` against labels `y` (each `< K`):
///
/// `CE = −(1/n) Σᵢ log softmax(ℓᵢ)[yᵢ] = (1/n) Σᵢ (log Σₖ exp ℓᵢₖ − ℓᵢ,yᵢ)`
///
/// with the log-softmax shifted by each row's maximum, so no exponential overflows
/// (finite for any finite logits). PyTorch's `F.cross_entropy(logits, y)`.
///
/// # Panics
/// If `logits` is not `[n, K]` with `n = labels.len() ≥ 1`, or a label is `≥ K`.
pub fn cross_entropy<'t, E: Element>(logits: Var<'t, E>, labels: &[u32]) -> Var<'t, E> {
    let s = logits.shape();
    assert!(
        s.len() == 2 && s[0] == labels.len() && !labels.is_empty(),
        "cross_entropy: logits {s:?} need one label per row, got {} labels",
        labels.len()
    );
    let (n, k) = (s[0], s[1]);
    if let Some(&bad) = labels.iter().find(|&&y| y as usize >= k) {
        panic!("cross_entropy: label {bad} is out of range for {k} classes");
    }
    // log softmax(ℓᵢ)[yᵢ] is element i·K + yᵢ of the flattened log-probabilities.
    let picks: Vec<u32> = (0..n).map(|i| (i * k) as u32 + labels[i]).collect();
    let picked = logits.log_softmax(1).reshape(&[n * k]).index_rows(&picks);
    -picked.mean()
}
