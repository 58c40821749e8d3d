"""Continues a gantry run in PyTorch: the same objective, penalty, n_critic, optimizers, schedule
and EMA, from the exported weights and optimizer state, at the exported step.

Written by `gantry export`. Run it in the export directory:

    python train.py --steps 100                    # one process, CPU (or --device cuda)
    torchrun --nproc_per_node 2 train.py --steps 100   # DistributedDataParallel

Under torchrun each process takes every world_size-th sample of the data (as
`torch.utils.data.DistributedSampler` splits it) and a batch of batch_size / world_size, and
DistributedDataParallel averages the gradients (gloo on CPU, nccl on CUDA), so one step
sees batch_size samples as in gantry. Batch norm uses each process's own batch statistics.

It writes checkpoint.safetensors (gantry's format: `gantry sample --checkpoint` and
`gantry train --resume` read it) and generator.safetensors / critic.safetensors /
generator_ema.safetensors (for `gantry train --init-from`) into --out.

One training step (Algorithm 1 of Gulrajani et al. 2017) is `train_step` below; its random
draws come from a `Draws` object, so a test can pass in the draws gantry made.

A class-conditional run (`[model.conditional]`) trains on the labels in data.safetensors:
each real batch comes with its labels, each generated batch with labels drawn uniformly
from the K classes, and the critic judges each batch with its own labels (the penalty's
points with the real batch's). With an AC-GAN critic both losses add acgan_weight times
the class cross-entropy: the critic's on the real and the generated batch, the
generator's on its own (Odena et al. 2017).
"""

import argparse
import math
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel

import models

# --- objectives: losses of the critic's logits v_r = D(x_real), v_f = D(G(z)) -----------
# -log sigmoid(v) = softplus(-v) and -log(1 - sigmoid(v)) = softplus(v), as in gantry.


def critic_output(divergence, v):
    """f-GAN's critic T = g_f(v) (Nowozin et al. 2016, Table 2)."""
    return {
        "total_variation": lambda: 0.5 * torch.tanh(v),
        "kl": lambda: v,
        "pearson": lambda: v,
        "reverse_kl": lambda: -torch.exp(-v),
        "neyman": lambda: 1 - torch.exp(-v),
        "squared_hellinger": lambda: 1 - torch.exp(-v),
        "jensen_shannon": lambda: math.log(2) - F.softplus(-v),
        "gan": lambda: -F.softplus(-v),
    }[divergence]()


def conjugate_of_output(divergence, v):
    """f*(g_f(v)), simplified per divergence so it is evaluated stably."""
    return {
        "total_variation": lambda: 0.5 * torch.tanh(v),
        "kl": lambda: torch.exp(v - 1),
        "reverse_kl": lambda: v - 1,
        "pearson": lambda: v * v / 4 + v,
        "neyman": lambda: 2 - 2 * torch.exp(-v / 2),
        "squared_hellinger": lambda: torch.exp(v) - 1,
        "jensen_shannon": lambda: F.softplus(v) - math.log(2),
        "gan": lambda: F.softplus(v),
    }[divergence]()


def relativistic(objective, a, b):
    """The relativistic family (Jolicoeur-Martineau 2018) for the side whose samples `a`
    should look more real than `b`: RaSGAN, RSGAN (pairwise), RaLSGAN, RaHingeGAN."""
    if objective == "relativistic":
        return F.softplus(-(a - b.mean())).mean() + F.softplus(b - a.mean()).mean()
    if objective == "rsgan":
        return F.softplus(-(a - b)).mean()
    if objective == "ralsgan":
        return (a - b.mean() - 1).square().mean() + (b - a.mean() + 1).square().mean()
    return F.relu(1 - (a - b.mean())).mean() + F.relu(1 + (b - a.mean())).mean()  # rahinge


RELATIVISTIC = ("relativistic", "rsgan", "ralsgan", "rahinge")


def d_loss(objective, real, fake):
    """The critic's loss (minimized)."""
    if objective in ("minimax", "non_saturating"):  # Goodfellow et al. 2014
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if objective == "wasserstein":  # Arjovsky et al. 2017
        return fake.mean() - real.mean()
    if objective == "hinge":  # Lim & Ye 2017; Miyato et al. 2018
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    if objective == "least_squares":  # Mao et al. 2017
        return ((real - 1).square().mean() + fake.square().mean()) * 0.5
    if objective in RELATIVISTIC:
        return relativistic(objective, real, fake)
    kind, divergence = objective.split(":")  # fgan:<d> or fgan-ns:<d>
    return -(critic_output(divergence, real).mean() - conjugate_of_output(divergence, fake).mean())


def g_loss(objective, fake, real):
    """The generator's loss (minimized); `real` is used by the relativistic loss only."""
    if objective == "minimax":
        return -F.softplus(fake).mean()
    if objective == "non_saturating":
        return F.softplus(-fake).mean()
    if objective in ("wasserstein", "hinge"):
        return -fake.mean()
    if objective == "least_squares":
        return (fake - 1).square().mean() * 0.5
    if objective in RELATIVISTIC:
        return relativistic(objective, fake, real)
    kind, divergence = objective.split(":")
    if kind == "fgan-ns":
        return -critic_output(divergence, fake).mean()
    return -conjugate_of_output(divergence, fake).mean()


def class_loss(class_logits, y):
    """AC-GAN's class cross-entropy, -(1/n) sum_i log softmax(class_logits_i)[y_i]."""
    return F.cross_entropy(class_logits, y)


# --- the networks, with or without labels ------------------------------------------------


def generate(g, z, y):
    """G(z), or G(z, y) for a class-conditional generator (y not None)."""
    return g(z) if y is None else g(z, y)


def judge(d, x, y):
    """`(logit, class_logits or None)`: D(x), or D(x, y) for a class-conditional critic;
    only an AC-GAN critic gives class logits."""
    out = d(x) if y is None else d(x, y)
    return out if isinstance(out, tuple) else (out, None)


# --- penalties ---------------------------------------------------------------------------


def squared_gradient_norm(critic, x):
    """||grad_x D(x)||^2 per sample, kept in the graph (create_graph=True) so the penalty's
    own gradient reaches the critic's parameters: a double backward."""
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return g.flatten(1).square().sum(1)


def gradient_norm(critic, x):
    """||grad_x D(x)||_2 per sample, sqrt(. + 1e-12) so its gradient is finite at 0."""
    return (squared_gradient_norm(critic, x) + 1e-12).sqrt()


def per_sample_shape(batch):
    return (batch.shape[0],) + (1,) * (batch.dim() - 1)


def penalty_loss(penalty, critic, real, fake, draws):
    """The penalty term of one critic step, or None (no penalty, weight clipping)."""
    kind = penalty["kind"]
    if kind == "gradient_penalty":  # WGAN-GP, Gulrajani et al. 2017
        eps = draws.uniform(per_sample_shape(real))
        x_hat = eps * real + (1 - eps) * fake
        excess = gradient_norm(critic, x_hat) - 1
        if penalty["one_sided"]:
            excess = F.relu(excess)
        return excess.square().mean() * penalty["lambda"]
    if kind == "r1":  # Mescheder et al. 2018
        return squared_gradient_norm(critic, real).mean() * (penalty["gamma"] / 2)
    if kind == "r2":
        return squared_gradient_norm(critic, fake).mean() * (penalty["gamma"] / 2)
    if kind == "dragan":  # Kodali et al. 2017
        std = (real - real.mean()).square().mean().sqrt()
        perturbed = real + draws.uniform(tuple(real.shape)) * (std * 0.5)
        alpha = draws.uniform(per_sample_shape(real))
        x_hat = alpha * real + (1 - alpha) * perturbed
        return (gradient_norm(critic, x_hat) - 1).square().mean() * penalty["lambda"]
    return None


# --- random draws --------------------------------------------------------------------------


class Draws:
    """This process's random draws: real batches (with replacement) from its shard of the
    data, each image mirrored left to right with probability 1/2 if the data asks for it,
    with their labels (`labels` None for an unconditional run); latent batches
    z ~ N(0, I); labels for generated batches, uniform over the `num_classes` classes; and
    uniform numbers for the penalties."""

    def __init__(self, data, labels, num_classes, flip, batch, z_dim, seed, device):
        self.data, self.labels, self.num_classes = data, labels, num_classes
        self.flip, self.batch, self.z_dim, self.device = flip, batch, z_dim, device
        self.generator = torch.Generator().manual_seed(seed)

    def real(self):
        """`(x, y)`, y None for an unconditional run."""
        i = torch.randint(len(self.data), (self.batch,), generator=self.generator)
        x = self.data[i]
        if self.flip:
            mirrored = torch.rand(self.batch, generator=self.generator) < 0.5
            x = torch.where(mirrored.view(per_sample_shape(x)), x.flip(-1), x)
        y = None if self.labels is None else self.labels[i].to(self.device)
        return x.to(self.device), y

    def z(self):
        return torch.randn(self.batch, self.z_dim, generator=self.generator).to(self.device)

    def fake_labels(self):
        """Classes for a generated batch, or None for an unconditional run."""
        if self.labels is None:
            return None
        y = torch.randint(self.num_classes, (self.batch,), generator=self.generator)
        return y.to(self.device)

    def uniform(self, shape):
        return torch.rand(shape, generator=self.generator).to(self.device)


# --- one training step ---------------------------------------------------------------------


class Run:
    """The networks, their optimizers and the settings of one run."""

    def __init__(self, settings, g, d, ema, device, distributed):
        config = settings["config"]
        self.config, self.g, self.d, self.ema = config, g, d, ema
        self.step = settings["step"]
        conditional = config["model"].get("conditional") or {}
        self.acgan_weight = (
            conditional.get("acgan_weight", 1.0) if conditional.get("critic") == "acgan" else None
        )
        o = config["optim"]
        self.opt_g = optimizer(o.get("g", "adam"), g, o["g_lr"], o)
        self.opt_d = optimizer(o.get("d", "adam"), d, o["d_lr"], o)
        # Under torchrun the critic's and the generator's updates go through DDP, which
        # averages their gradients over the processes; the generator step calls the plain
        # critic, whose parameters are frozen there.
        wrap = (lambda m: DistributedDataParallel(m)) if distributed else (lambda m: m)
        self.g_train, self.d_train = wrap(g), wrap(d)

    def set_learning_rates(self):
        """lr * w(t) * d(t) at step t of T: warm-up w(t) = min(1, (t + 1)/W) over W steps
        (1 when W = 0), decay d(t) = 1 (constant), 1 - t/T (linear) or
        (1 + cos(pi t/T))/2 (cosine)."""
        o, t, total = self.config["optim"], self.step, max(self.config["steps"], 1)
        warmup = o.get("warmup", 0)
        warm = min(1.0, (t + 1) / warmup) if warmup > 0 else 1.0
        decay = {
            "constant": 1.0,
            "linear": 1 - t / total,
            "cosine": 0.5 * (1 + math.cos(math.pi * t / total)),
        }[o["schedule"]]
        self.opt_g.param_groups[0]["lr"] = o["g_lr"] * warm * decay
        self.opt_d.param_groups[0]["lr"] = o["d_lr"] * warm * decay

    def critic_step(self, draws):
        """One critic update on a real batch and a generated one; returns its loss."""
        c = self.config
        real, y_real = draws.real()
        z, y_fake = draws.z(), draws.fake_labels()
        with torch.no_grad():
            fake = generate(self.g_train, z, y_fake)
        v_real, classes_real = judge(self.d_train, real, y_real)
        v_fake, classes_fake = judge(self.d_train, fake, y_fake)
        loss = d_loss(c["objective"], v_real, v_fake)

        def critic(x):
            return judge(self.d_train, x, y_real)[0]

        penalty = penalty_loss(c["penalty"], critic, real, fake, draws)
        if penalty is not None:
            loss = loss + penalty
        if self.acgan_weight is not None:
            ce = class_loss(classes_real, y_real) + class_loss(classes_fake, y_fake)
            loss = loss + ce * self.acgan_weight
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if c["penalty"]["kind"] == "weight_clip":  # WGAN, Arjovsky et al. 2017
            with torch.no_grad():
                for p in self.d.parameters():
                    p.clamp_(-c["penalty"]["c"], c["penalty"]["c"])
        return loss.item()

    def generator_step(self, draws):
        """One generator update against the (frozen) critic; returns its loss."""
        objective = self.config["objective"]
        z, y_fake = draws.z(), draws.fake_labels()
        real, y_real = draws.real() if objective in RELATIVISTIC else (None, None)
        self.d.requires_grad_(False)
        v_fake, classes_fake = judge(self.d, generate(self.g_train, z, y_fake), y_fake)
        v_real = v_fake if real is None else judge(self.d, real, y_real)[0]
        loss = g_loss(objective, v_fake, v_real)
        if self.acgan_weight is not None:
            loss = loss + class_loss(classes_fake, y_fake) * self.acgan_weight
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.d.requires_grad_(True)
        return loss.item()

    def update_ema(self):
        """theta_ema <- beta * theta_ema + (1 - beta) * theta, with beta = 0 (a copy) before
        step ema_start; buffers copied."""
        if self.ema is None:
            return
        beta = self.config["ema"] if self.step >= self.config.get("ema_start", 0) else 0.0
        with torch.no_grad():
            for e, p in zip(self.ema.parameters(), self.g.parameters()):
                e.mul_(beta).add_(p, alpha=1 - beta)
            for e, b in zip(self.ema.buffers(), self.g.buffers()):
                e.copy_(b)

    def train_step(self, draws):
        """n_critic critic steps, then one generator step, then the EMA."""
        self.set_learning_rates()
        for _ in range(self.config["n_critic"]):
            d_loss_value = self.critic_step(draws)
        g_loss_value = self.generator_step(draws)
        self.update_ema()
        self.step += 1
        return d_loss_value, g_loss_value


# --- gantry's checkpoint names ---------------------------------------------------------------


def optimizer(kind, module, lr, o):
    """torch.optim's `kind` (adam, rmsprop, sgd) for `module`, with gantry's settings:
    Adam's betas from the config, PyTorch's defaults otherwise."""
    params = module.parameters()
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(o["beta1"], o["beta2"]), eps=1e-8, foreach=False)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8, foreach=False)
    return torch.optim.SGD(params, lr=lr, foreach=False)


# The state gantry's checkpoint holds per parameter, and the part of it PyTorch keeps with
# these settings (RMSprop without momentum or centering, SGD without momentum).
GANTRY_SLOTS = {
    "adam": ("exp_avg", "exp_avg_sq"),
    "rmsprop": ("square_avg", "momentum_buffer", "grad_avg"),
    "sgd": ("momentum_buffer",),
}
TORCH_SLOTS = {"adam": ("exp_avg", "exp_avg_sq"), "rmsprop": ("square_avg",), "sgd": ()}


def restore_optimizer(opt, kind, module, state, prefix):
    """The optimizer's state from gantry's `{prefix}.{param}.{slot}` and `{prefix}.step`."""
    step = state[f"{prefix}.step"].item()
    if step == 0 or not TORCH_SLOTS[kind]:
        return
    for name, p in module.named_parameters():
        opt.state[p] = {"step": torch.tensor(float(step))}
        for slot in TORCH_SLOTS[kind]:
            opt.state[p][slot] = state[f"{prefix}.{name}.{slot}"].to(p.device).clone()


def optimizer_state(opt, kind, module, prefix, updates):
    """The inverse of `restore_optimizer`; slots PyTorch does not keep are zeros, and the
    step is `updates` where PyTorch does not count (SGD)."""
    out, step = {}, float(updates)
    for name, p in module.named_parameters():
        s = opt.state.get(p, {})
        step = float(s.get("step", step))
        for slot in GANTRY_SLOTS[kind]:
            value = s.get(slot)
            out[f"{prefix}.{name}.{slot}"] = value if value is not None else torch.zeros_like(p)
    out[f"{prefix}.step"] = torch.tensor(step)
    return out


def float32_state(module, prefix=""):
    """A state_dict as gantry stores it: every tensor float32 and contiguous."""
    return {prefix + k: v.detach().float().cpu().contiguous() for k, v in module.state_dict().items()}


def save_atomic(tensors, path, metadata=None):
    """Writes a safetensors file via a temporary file and a rename, so a crash leaves the
    old file or the new one, never half of one."""
    tmp = f"{path}.tmp-{os.getpid()}"
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in tensors.items()}
    save_file(tensors, tmp, metadata=metadata)
    os.replace(tmp, path)


def save(run, settings, out):
    """checkpoint.safetensors in gantry's format, and the networks one file each."""
    os.makedirs(out, exist_ok=True)
    tensors = {**float32_state(run.g, "g."), **float32_state(run.d, "d.")}
    if run.ema is not None:
        tensors.update(float32_state(run.ema, "g_ema."))
    o = run.config["optim"]
    g_updates, d_updates = run.step, run.step * run.config["n_critic"]
    tensors.update(optimizer_state(run.opt_g, o.get("g", "adam"), run.g, "opt_g", g_updates))
    tensors.update(optimizer_state(run.opt_d, o.get("d", "adam"), run.d, "opt_d", d_updates))
    # gantry resumes its own random stream from the start (position 0): the draws made
    # here are PyTorch's, not gantry's.
    meta = {"step": str(run.step), "rng_word_pos": "0", "format": "gantry-trainer-1",
            "config": settings["config_toml"]}
    save_atomic(tensors, os.path.join(out, "checkpoint.safetensors"), meta)
    save_atomic(float32_state(run.g), os.path.join(out, "generator.safetensors"))
    save_atomic(float32_state(run.d), os.path.join(out, "critic.safetensors"))
    if run.ema is not None:
        save_atomic(float32_state(run.ema), os.path.join(out, "generator_ema.safetensors"))


def load_run(directory, device, distributed=False):
    """The exported run, networks in training mode, optimizer state restored."""
    settings = models.read_run(directory)
    g, d, ema = models.load_networks(directory)
    g, d = g.train().to(device), d.train().to(device)
    ema = ema.to(device) if ema is not None else None
    run = Run(settings, g, d, ema, device, distributed)
    state = load_file(os.path.join(directory, "optimizer.safetensors"))
    o = settings["config"]["optim"]
    restore_optimizer(run.opt_g, o.get("g", "adam"), g, state, "opt_g")
    restore_optimizer(run.opt_d, o.get("d", "adam"), d, state, "opt_d")
    return run, settings


class Images:
    """Images kept as uint8, each batch converted to float as gantry converts it:
    x = pixels * scale - 1, with `scale` (float32, 2 / the set's largest value) from
    `data_scale`. Indexing with a tensor of indices gives a float batch; a slice, a shard."""

    def __init__(self, pixels, scale):
        self.pixels, self.scale = pixels, scale

    def __len__(self):
        return len(self.pixels)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Images(self.pixels[i], self.scale)
        return self.pixels[i].float() * self.scale - 1


def load_data(path, config, num_classes):
    """`(data, labels)` from data.safetensors: the samples `data` (float32, or uint8 images
    with their `data_scale`, see `Images`) and, for a class-conditional run, their classes
    `labels` (each < num_classes) as int64, else None."""
    tensors = load_file(path)
    if "data" not in tensors:
        raise SystemExit(f"{path}: no tensor `data` (the training samples)")
    data = tensors["data"]
    if data.dtype == torch.uint8:
        if tensors.get("data_scale") is None or tensors["data_scale"].shape != (1,):
            raise SystemExit(f"{path}: uint8 `data` needs `data_scale` [1] (x = data * data_scale - 1)")
        data = Images(data, tensors["data_scale"].float())
    if not config["model"].get("conditional"):
        return data, None
    if "labels" not in tensors:
        raise SystemExit(f"{path}: no tensor `labels`, which a class-conditional run needs")
    labels = tensors["labels"]
    if labels.shape != (len(data),):
        raise SystemExit(f"{path}: `labels` has shape {tuple(labels.shape)}, not ({len(data)},)")
    labels = labels.long()
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise SystemExit(f"{path}: `labels` must hold classes 0 to {num_classes - 1}")
    return data, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="generator steps to run now (default: to the config's end)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=".", help="where to write the checkpoints")
    parser.add_argument("--from", dest="source", default=".", help="the export directory")
    args = parser.parse_args()

    world = int(os.environ.get("WORLD_SIZE", "1"))
    distributed = world > 1
    rank = 0
    device = torch.device(args.device)
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        rank = dist.get_rank()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    run, settings = load_run(args.source, device, distributed)
    config = run.config
    if config["batch_size"] % world:
        raise SystemExit(f"batch_size {config['batch_size']} is not divisible by the {world} processes")
    data, labels = load_data(
        os.path.join(args.source, "data.safetensors"), config, settings["num_classes"]
    )
    shard = slice(rank, None, world)  # DistributedSampler's split, without padding
    seed = config["seed"] * 1000003 + run.step * 101 + rank
    draws = Draws(
        data[shard],
        None if labels is None else labels[shard],
        settings["num_classes"],
        config["data"].get("flip", False),
        config["batch_size"] // world,
        config["model"]["z_dim"],
        seed,
        device,
    )

    end = config["steps"] if args.steps is None else min(config["steps"], run.step + args.steps)
    while run.step < end:
        d_value, g_value = run.train_step(draws)
        if rank == 0 and (run.step % config["log_every"] == 0 or run.step == end):
            print(f'{{"step": {run.step}, "d_loss": {d_value:.6g}, "g_loss": {g_value:.6g}}}', flush=True)
        if rank == 0 and (run.step % config["checkpoint_every"] == 0 or run.step == end):
            save(run, settings, args.out)
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
