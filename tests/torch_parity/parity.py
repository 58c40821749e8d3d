"""Checks that a run exported by `gantry export` computes in PyTorch what it computes in gantry.

Usage: python parity.py CASE_DIR [CASE_DIR ...]

`cargo test --test torch_parity -- --nocapture` writes the case directories and runs this
script on them (set GANTRY_PYTHON to a Python with torch and safetensors). Each CASE_DIR
holds an export (models.py, train.py, the weights, optimizer state and run.json) and:

- fixtures.safetensors: inputs `z`, `x` and gantry's eval-mode outputs `g_out = G(z)`,
  `d_out = D(x)` (and `ema_out`), and the random draws of gantry's next training step:
  `real.<i>`, `z.<i>`, `uniform.<i>` in the order the step made them;
- expected.safetensors: gantry's checkpoint after that step.

Two checks, each printing the largest difference per tensor:
1. forward: the exported networks in eval mode reproduce gantry's outputs within 1e-5
   (absolute, scaled up by the largest output when it exceeds 1);
2. one training step with the same draws: every tensor of the checkpoint (weights, buffers,
   EMA, Adam's moments and step) within 1e-4 of gantry's, relative to the tensor's largest
   magnitude.
   One exception: the bias of a layer followed by batch norm. Batch norm subtracts the
   batch mean per feature, so that bias's exact gradient is 0; what either side computes
   is rounding noise (~1e-9), which Adam divides by its own magnitude into steps of up to
   lr. Those biases, their EMA and their Adam moments are shown but not compared; instead
   both sides must agree that the gradient is noise: Adam's first moment of the bias below
   1e-4 of the layer weight's.
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
    """The draws gantry made, handed out in the order the step asks for them."""

    def __init__(self, fixtures):
        self.fixtures, self.taken = fixtures, {"real": 0, "z": 0, "uniform": 0}

    def take(self, kind):
        key = f"{kind}.{self.taken[kind]}"
        self.taken[kind] += 1
        return self.fixtures[key]

    def real(self):
        return self.take("real")

    def z(self):
        return self.take("z")

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
    print(f"{case:18} {what:8} {name:48} {shown}  {'ok' if ok else 'FAIL'}")
    return ok


def biases_before_batch_norm(net):
    """`{i}.bias` of each layer directly followed by batch norm in a Sequential."""
    layers = list(net)
    norms = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)
    return {f"{i}.bias" for i in range(len(layers) - 1) if isinstance(layers[i + 1], norms)}


def gradient_is_noise(case, state, expected, bias):
    """Adam's first moment of `bias` (in opt_g) is below 1e-4 of its layer weight's, on both sides."""
    weight = bias[: -len("bias")] + "weight"
    ok = True
    for side, s in (("torch", state), ("gantry", expected)):
        m_bias = s[f"opt_g.{bias}.exp_avg"].abs().max().item()
        m_weight = s[f"opt_g.{weight}.exp_avg"].abs().max().item()
        good = m_bias <= 1e-4 * m_weight
        print(f"{case:18} step     |m(g.{bias})| / |m(g.{weight})| ({side}) {m_bias / m_weight:.2e}  {'ok' if good else 'FAIL'}")
        ok &= good
    return ok


def check(case_dir):
    case = os.path.basename(os.path.normpath(case_dir))
    models = load_module("models", os.path.join(case_dir, "models.py"))
    train = load_module("train", os.path.join(case_dir, "train.py"))
    fixtures = load_file(os.path.join(case_dir, "fixtures.safetensors"))
    ok = True

    g, d, ema = models.load_networks(case_dir)
    with torch.no_grad():
        outputs = [("G(z)", g(fixtures["z"]), fixtures["g_out"]), ("D(x)", d(fixtures["x"]), fixtures["d_out"])]
        if ema is not None:
            outputs.append(("EMA G(z)", ema(fixtures["z"]), fixtures["ema_out"]))
    for name, got, want in outputs:
        ok &= report(case, "forward", name, got, want, FORWARD_TOLERANCE, relative=False)

    torch.manual_seed(0)  # nothing in the step may draw from torch's own generator
    run, _ = train.load_run(case_dir, torch.device("cpu"))
    draws = GivenDraws(fixtures)
    run.train_step(draws)
    if not draws.all_used():
        print(f"{case:18} step     not every draw of gantry's step was used  FAIL")
        ok = False
    state = {**train.float32_state(run.g, "g."), **train.float32_state(run.d, "d.")}
    if run.ema is not None:
        state.update(train.float32_state(run.ema, "g_ema."))
    state.update(train.adam_state(run.opt_g, run.g, "opt_g"))
    state.update(train.adam_state(run.opt_d, run.d, "opt_d"))
    expected = load_file(os.path.join(case_dir, "expected.safetensors"))
    if set(state) != set(expected):
        print(f"{case:18} step     keys differ: {sorted(set(state) ^ set(expected))}  FAIL")
        return False
    noise = biases_before_batch_norm(run.g)
    exempt = {f"{prefix}.{b}{suffix}" for b in noise for prefix, suffix in
              (("g", ""), ("g_ema", ""), ("opt_g", ".exp_avg"), ("opt_g", ".exp_avg_sq"))}
    for name in sorted(expected):
        if name in exempt:
            diff = (state[name] - expected[name]).abs().max().item()
            print(f"{case:18} step     {name:48} {diff:.2e} abs  (bias before batch norm: not compared)")
            continue
        ok &= report(case, "step", name, state[name], expected[name], STEP_TOLERANCE, relative=True)
    for bias in sorted(noise):
        ok &= gradient_is_noise(case, state, expected, bias)
    return ok


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    results = [check(case_dir) for case_dir in sys.argv[1:]]
    print(f"torch {torch.__version__}: {sum(results)}/{len(results)} cases agree")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
