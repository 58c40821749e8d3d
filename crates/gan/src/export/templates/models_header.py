"""The generator and critic of a gantry run, as PyTorch modules.

Written by `gantry export`. An unconditional network is a `torch.nn.Sequential` built from
`torch.nn` layers; a class-conditional one is a `Generator` / `Critic` below, whose layers
are numbered children just as in a `Sequential`. Either way its `state_dict` keys are
exactly the names gantry stores in its checkpoints (`0.weight`, `1.running_mean`,
`0.parametrizations.weight.original`, `embed.weight`, `1.gain.weight`, ...), and
`generator.safetensors` / `critic.safetensors` load with `strict=True`.

A conditional generator is called as `g(z, y)` and a conditional critic as `d(x, y)`, with
`y` the class labels (int64, one per sample); an AC-GAN critic returns
`(logit, class_logits)`, every other critic the logit alone.

Spectral normalization is `torch.nn.utils.parametrizations.spectral_norm` (Miyato et al.
2018) with its defaults (one power iteration per training forward, eps 1e-12), which is
what gantry implements; its buffers `_u` and `_v` are loaded too.

Needs nothing but `torch` and `safetensors`.
"""

import json
import os

import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def maybe_spectral_norm(layer, enabled):
    """`layer` with its weight divided by its largest singular value, if `enabled`."""
    return spectral_norm(layer) if enabled else layer


def dcgan_init(layer):
    """DCGAN's init (Radford et al. 2016): weight N(0, 0.02^2), bias (if any) 0."""
    nn.init.normal_(layer.weight, 0.0, 0.02)
    if getattr(layer, "bias", None) is not None:
        nn.init.zeros_(layer.bias)
    return layer


class ConditionalBatchNorm(nn.Module):
    """Batch norm with a gain and a bias per class (de Vries et al. 2017; Miyato & Koyama
    2018): y[n, c, ...] = gain[y_n, c] * (x[n, c, ...] - mean[c]) / sqrt(var[c] + eps)
    + bias[y_n, c], the statistics those of the batch in training mode and the running
    ones in eval mode. Gains start at 1 and biases at 0.

    Children: `bn` (no affine map of its own: buffers only), `gain` and `bias`
    (`nn.Embedding(num_classes, features)`).
    """

    def __init__(self, features, num_classes, images):
        super().__init__()
        norm = nn.BatchNorm2d if images else nn.BatchNorm1d
        self.bn = norm(features, affine=False)
        self.gain = nn.Embedding(num_classes, features)
        self.bias = nn.Embedding(num_classes, features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x, y):
        per_sample = (x.shape[0], x.shape[1]) + (1,) * (x.dim() - 2)
        return self.gain(y).view(per_sample) * self.bn(x) + self.bias(y).view(per_sample)


class Generator(nn.Module):
    """A class-conditional generator G(z, y): `layers` as children `0`, `1`, ... (as in an
    `nn.Sequential`), run in order on z, or on [z, embed(y)] (concatenated along the
    features) when there is a label embedding `embed` (Mirza & Osindero 2014, with a
    learned embedding for the one-hot); each `ConditionalBatchNorm` among them also gets y.
    """

    def __init__(self, layers, embed=None):
        super().__init__()
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)
        # A tuple, not a module attribute: the layers are registered once, as `0`, `1`, ...
        self.layers = tuple(layers)
        self.embed = embed

    def forward(self, z, y):
        x = z if self.embed is None else torch.cat([z, self.embed(y)], 1)
        for layer in self.layers:
            x = layer(x, y) if isinstance(layer, ConditionalBatchNorm) else layer(x)
        return x


class Critic(nn.Module):
    """A class-conditional critic D(x, y) = psi(phi(x)), with phi the `trunk` and psi the
    `head` (children `0`, `1`, ..., numbered as one `nn.Sequential`), and:

    - a projection critic (Miyato & Koyama 2018), `embed` an `nn.Embedding(num_classes,
      features)`: D(x, y) = psi(phi(x)) + <embed(y), phi(x)>;
    - an AC-GAN critic (Odena et al. 2017), `classifier` a `Linear(features, num_classes)`:
      returns (psi(phi(x)), classifier(phi(x))), the logit and the class logits; it does
      not read y.
    """

    def __init__(self, trunk, head, embed=None, classifier=None):
        super().__init__()
        for i, layer in enumerate(trunk + [head]):
            self.add_module(str(i), layer)
        # A tuple, not a module attribute: the layers are registered once, as `0`, `1`, ...
        self.layers = tuple(trunk + [head])
        self.embed, self.classifier = embed, classifier

    def forward(self, x, y=None):
        features = x
        for layer in self.layers[:-1]:
            features = layer(features)
        logit = self.layers[-1](features)
        if self.embed is not None:
            if y is None:
                raise ValueError("a projection critic needs the labels: call it as d(x, y)")
            logit = logit + (self.embed(y) * features).sum(1, keepdim=True)
        if self.classifier is not None:
            return logit, self.classifier(features)
        return logit


def read_run(directory):
    """The run's settings, as `gantry export` wrote them to run.json."""
    with open(os.path.join(directory, "run.json")) as f:
        return json.load(f)


def load_state(module, path):
    """Loads a safetensors file into `module`, every key required and none extra.

    gantry stores every tensor as float32; batch norm's `num_batches_tracked` is int64 in
    PyTorch, and `load_state_dict` converts it on copy.
    """
    module.load_state_dict(load_file(path), strict=True)
    return module


def load_networks(directory):
    """`(generator, critic, ema_generator or None)` with the exported weights, in eval mode."""
    run = read_run(directory)
    shape, classes = run["sample_shape"], run["num_classes"]
    model = run["config"]["model"]
    g = load_state(generator(model, shape, classes), os.path.join(directory, "generator.safetensors"))
    d = load_state(critic(model, shape, classes), os.path.join(directory, "critic.safetensors"))
    ema_path = os.path.join(directory, "generator_ema.safetensors")
    ema = None
    if os.path.exists(ema_path):
        ema = load_state(generator(model, shape, classes), ema_path).eval()
    return g.eval(), d.eval(), ema


# The architecture of this run's model kind follows: `generator(model, sample_shape,
# num_classes)` and `critic(model, sample_shape, num_classes)`, with `model` the config's
# [model] table and `num_classes` the data's class count (0 for unlabelled data).
