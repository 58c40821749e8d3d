"""Checks that a run exported by `gantry export` computes in PyTorch what it computes in gantry.

Usage: python parity.py CASE_DIR [CASE_DIR ...]

`cargo test --test torch_parity -- --nocapture` writes the case directories and runs this
script on them (set GANTRY_PYTHON to a Python with torch and safetensors). Each CASE_DIR
holds an export (models.py, train.py, the weights, optimizer state and run.json) and:

- fixtures.safetensors: inputs `z`, `x` and gantry's eval-mode outputs `g_out = G(z)`,
  `d_out = D(x)` (and `ema_out`); for a class-conditional run also labels `y`, the outputs
  being G(z, y) and D(x, y), and for an AC-GAN critic its class logits `d_classes`; and the
  random draws of gantry's next training step: `real.<i>`, `z.<i>`, `uniform.<i>` and, for
  a conditional run, `real_labels.<i>` and `fake_labels.<i>`, in the order the step made
  them;
- expected.safetensors: gantry's checkpoint after that step.

Two checks, each printing the largest difference per tensor:
1. forward: the exported networks in eval mode reproduce gantry's outputs within 1e-5
   (absolute, scaled up by the largest output when it exceeds 1);
2. one training step with the same draws: every tensor of the checkpoint (weights, buffers,
   EMA, Adam's moments and step) within 1e-4 of gantry's, relative to the tensor's largest
   magnitude.
   One exception: a bias whose exact gradient is 0, namely the bias of a generator layer
   followed by batch norm (which subtracts the batch mean per feature) and, under the
   relativistic loss (which reads the logits only through differences), the critic's last
   bias. What either side computes for it is rounding noise (~1e-9), which Adam divides by
   its own magnitude into steps of up to lr. Those biases, their EMA and their Adam
   moments are shown but not compared; instead both sides must agree that the gradient is
   noise: Adam's first moment of the bias below 1e-4 of the layer weight's.
Exits with status 1 if any tensor is off.
"""

import importlib.util
import os
import sys

import torch
from safetensors.torch import load_file

FORWARD_TOLERANCE = 1e-5
STEP_TOLERANCE = 1e-4


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class GivenDraws:
    """The draws gantry made, handed out in the order the step asks for them; labels
    (stored as float32 whole numbers) as int64, and only for a conditional run."""

    def __init__(self, fixtures, conditional):
        self.fixtures, self.conditional = fixtures, conditional
        self.taken = {"real": 0, "real_labels": 0, "z": 0, "fake_labels": 0, "uniform": 0}

    def take(self, kind):
        key = f"{kind}.{self.taken[kind]}"
        self.taken[kind] += 1
        return self.fixtures[key]

    def labels(self, kind):
        return self.take(kind).long() if self.conditional else None

    def real(self):
        return self.take("real"), self.labels("real_labels")

    def z(self):
        return self.take("z")

    def fake_labels(self):
        return self.labels("fake_labels")

    def uniform(self, shape):
        u = self.take("uniform")
        assert tuple(u.shape) == tuple(shape), f"uniform draw {tuple(u.shape)} != {tuple(shape)}"
        return u

    def all_used(self):
        return all(f"{k}.{n}" not in self.fixtures for k, n in self.taken.items())


def report(case, what, name, got, want, tolerance, relative):
    diff = (got.double() - want.double()).abs().max().item() if want.numel() else 0.0
    scale = want.double().abs().max().item() if want.numel() else 0.0
    limit = tolerance * (max(scale, 1e-30) if relative else max(scale, 1.0))
    ok = got.shape == want.shape and diff <= limit
    shown = f"{diff / max(scale, 1e-30):.2e} rel" if relative else f"{diff:.2e} abs"
    print(f"{case:26} {what:8} {name:48} {shown}  {'ok' if ok else 'FAIL'}")
    return ok


def layers_of(models, net):
    """The numbered layers of a Sequential or of a conditional `models.Generator` / `Critic`."""
    return list(net.layers if isinstance(net, (models.Generator, models.Critic)) else net)


def zero_gradient_biases(models, run):
    """`(network, bias)` for each bias whose exact gradient is 0, with why:
    - in the generator, the bias of a layer directly followed by batch norm (conditional or
      not), which subtracts the batch mean per feature;
    - in the critic under a relativistic loss, the last layer's bias: the loss reads the
      logits only through differences (D(x_r) - mean D(x_f), or D(x_r) - D(x_f) for RSGAN),
      which a common offset leaves unchanged (the projection term and AC-GAN's class logits
      do not involve it).
    """
    g = layers_of(models, run.g)
    norms = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, models.ConditionalBatchNorm)
    out = {("g", f"{i}.bias", "bias before batch norm") for i in range(len(g) - 1) if isinstance(g[i + 1], norms)}
    if run.config["objective"] in ("relativistic", "rsgan", "ralsgan", "rahinge"):
        last = len(layers_of(models, run.d)) - 1
        out.add(("d", f"{last}.bias", "critic's last bias, relativistic loss"))
    return out


def gradient_is_noise(case, state, expected, net, bias):
    """Adam's first moment of `bias` (in opt_<net>) is below 1e-4 of its layer weight's, on both sides."""
    layer = bias[: -len("bias")]
    weight = next(layer + w for w in ("weight", "parametrizations.weight.original")
                  if f"opt_{net}.{layer}{w}.exp_avg" in expected)
    ok = True
    for side, s in (("torch", state), ("gantry", expected)):
        m_bias = s[f"opt_{net}.{bias}.exp_avg"].abs().max().item()
        m_weight = s[f"opt_{net}.{weight}.exp_avg"].abs().max().item()
        good = m_bias <= 1e-4 * m_weight
        print(f"{case:26} step     |m({net}.{bias})| / |m({net}.{weight})| ({side}) {m_bias / m_weight:.2e}  {'ok' if good else 'FAIL'}")
        ok &= good
    return ok


def check(case_dir):
    case = os.path.basename(os.path.normpath(case_dir))
    models = load_module("models", os.path.join(case_dir, "models.py"))
    train = load_module("train", os.path.join(case_dir, "train.py"))
    fixtures = load_file(os.path.join(case_dir, "fixtures.safetensors"))
    ok = True

    g, d, ema = models.load_networks(case_dir)
    conditional = "y" in fixtures
    labels = (fixtures["y"].long(),) if conditional else ()
    with torch.no_grad():
        judged = d(fixtures["x"], *labels)
        logit, classes = judged if isinstance(judged, tuple) else (judged, None)
        outputs = [("G(z)", g(fixtures["z"], *labels), fixtures["g_out"]), ("D(x)", logit, fixtures["d_out"])]
        if ema is not None:
            outputs.append(("EMA G(z)", ema(fixtures["z"], *labels), fixtures["ema_out"]))
    if (classes is None) != ("d_classes" not in fixtures):
        print(f"{case:26} forward  class logits given by only one side  FAIL")
        ok = False
    elif classes is not None:
        outputs.append(("D(x) class logits", classes, fixtures["d_classes"]))
    for name, got, want in outputs:
        ok &= report(case, "forward", name, got, want, FORWARD_TOLERANCE, relative=False)

    torch.manual_seed(0)  # nothing in the step may draw from torch's own generator
    run, _ = train.load_run(case_dir, torch.device("cpu"))
    if conditional != bool(run.config["model"].get("conditional")):
        print(f"{case:26} labels given for an unconditional run, or none for a conditional one  FAIL")
        return False
    draws = GivenDraws(fixtures, conditional)
    run.train_step(draws)
    if not draws.all_used():
        print(f"{case:26} step     not every draw of gantry's step was used  FAIL")
        ok = False
    state = {**train.float32_state(run.g, "g."), **train.float32_state(run.d, "d.")}
    if run.ema is not None:
        state.update(train.float32_state(run.ema, "g_ema."))
    o = run.config["optim"]
    g_updates, d_updates = run.step, run.step * run.config["n_critic"]
    state.update(train.optimizer_state(run.opt_g, o.get("g", "adam"), run.g, "opt_g", g_updates))
    state.update(train.optimizer_state(run.opt_d, o.get("d", "adam"), run.d, "opt_d", d_updates))
    expected = load_file(os.path.join(case_dir, "expected.safetensors"))
    if set(state) != set(expected):
        print(f"{case:26} step     keys differ: {sorted(set(state) ^ set(expected))}  FAIL")
        return False
    noise = sorted(zero_gradient_biases(models, run))
    exempt = {}
    for net, bias, why in noise:
        copies = (net, "g_ema") if net == "g" else (net,)
        for name in [f"{c}.{bias}" for c in copies] + [f"opt_{net}.{bias}.exp_avg", f"opt_{net}.{bias}.exp_avg_sq"]:
            exempt[name] = why
    for name in sorted(expected):
        if name in exempt:
            diff = (state[name] - expected[name]).abs().max().item()
            print(f"{case:26} step     {name:48} {diff:.2e} abs  ({exempt[name]}: not compared)")
            continue
        ok &= report(case, "step", name, state[name], expected[name], STEP_TOLERANCE, relative=True)
    for net, bias, _ in noise:
        ok &= gradient_is_noise(case, state, expected, net, bias)
    return ok


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    results = [check(case_dir) for case_dir in sys.argv[1:]]
    print(f"torch {torch.__version__}: {sum(results)}/{len(results)} cases agree")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
