"""The generator and critic of a gantry run, as PyTorch modules.

Written by `gantry export`. Every module is a `torch.nn.Sequential` built from `torch.nn`
layers, so its `state_dict` keys are exactly the names gantry stores in its checkpoints
(`0.weight`, `1.running_mean`, `0.parametrizations.weight.original`, ...), and
`generator.safetensors` / `critic.safetensors` load with `strict=True`.

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
    """DCGAN's init (Radford et al. 2016): weight N(0, 0.02^2), bias 0."""
    nn.init.normal_(layer.weight, 0.0, 0.02)
    nn.init.zeros_(layer.bias)
    return layer


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
    shape = run["sample_shape"]
    model = run["config"]["model"]
    g = load_state(generator(model, shape), os.path.join(directory, "generator.safetensors"))
    d = load_state(critic(model, shape), os.path.join(directory, "critic.safetensors"))
    ema_path = os.path.join(directory, "generator_ema.safetensors")
    ema = None
    if os.path.exists(ema_path):
        ema = load_state(generator(model, shape), ema_path).eval()
    return g.eval(), d.eval(), ema


# The architecture of this run's model kind follows: `generator(model, sample_shape)` and
# `critic(model, sample_shape)`, with `model` the config's [model] table.
