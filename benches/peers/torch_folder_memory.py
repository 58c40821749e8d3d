"""Peak memory of PyTorch CPU training on a folder of images, beside `gantry train` on it.

    gantry export --config folder-rgb-sngan --set data.path=FOLDER --set data.size=64 --to EXPORT
    python benches/peers/torch_folder_memory.py EXPORT FOLDER [--steps 20] [--threads 2] [--float]

The networks are the export's (`models.py`: the same layers, shapes and names as gantry's),
with the exported weights. Every PNG or JPEG under FOLDER (sorted, as gantry reads them) is
decoded with Pillow, centre-cropped to a square and resized (bilinear) to the export's size in
RGB, and kept in memory as one uint8 tensor [N, 3, s, s], as gantry keeps it; each batch is
converted to float in [-1, 1]. `--float` keeps the whole set as float32 instead (what
`transforms.ToTensor()` over a cached data set holds). Then `steps` steps of the config: hinge
loss, Adam with the config's rates and betas, one critic and one generator step per step.

Prints one JSON line: images, the bytes the images take, steps, ms per step (median), and the
process's peak resident memory (`ru_maxrss`) after loading and at the end.
"""
import argparse, json, os, resource, statistics, sys, time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

EXTENSIONS = (".png", ".jpg", ".jpeg")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def image_files(folder):
    found = []
    for root, _, files in os.walk(folder):
        found += [os.path.join(root, f) for f in files if f.lower().endswith(EXTENSIONS)]
    return sorted(found)


def decode(path, size):
    """RGB, centre-cropped to a square, resized to size x size: [3, size, size] uint8."""
    im = Image.open(path).convert("RGB")
    side = min(im.size)
    left, top = (im.size[0] - side) // 2, (im.size[1] - side) // 2
    im = im.crop((left, top, left + side, top + side))
    if side != size:
        im = im.resize((size, size), Image.BILINEAR)
    return np.asarray(im).transpose(2, 0, 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export")
    p.add_argument("folder")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--float", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, args.export)
    import models

    run = models.read_run(args.export)
    config, shape = run["config"], run["sample_shape"]
    if run["num_classes"] and config["model"].get("conditional"):
        sys.exit("this script trains unconditional models")
    size = shape[-1]
    files = image_files(args.folder)
    images = torch.from_numpy(np.stack([decode(f, size) for f in files]))
    if args.float:
        images = images.float() / 127.5 - 1
    loaded_mb = peak_rss_mb()

    g = models.generator(config["model"], shape, 0)
    d = models.critic(config["model"], shape, 0)
    o = config["optim"]
    betas = (o.get("beta1", 0.5), o.get("beta2", 0.999))
    opt_g = torch.optim.Adam(g.parameters(), lr=o["g_lr"], betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=o["d_lr"], betas=betas)
    batch, z_dim = config["batch_size"], config["model"]["z_dim"]
    gen = torch.Generator().manual_seed(0)
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        i = torch.randint(len(images), (batch,), generator=gen)
        real = images[i]
        real = real if args.float else real.float() / 127.5 - 1
        fake = g(torch.randn(batch, z_dim, generator=gen))
        loss_d = F.relu(1 - d(real)).mean() + F.relu(1 + d(fake.detach())).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = -d(g(torch.randn(batch, z_dim, generator=gen))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "peer": f"pytorch {torch.__version__}",
        "images": len(images),
        "image_bytes_mb": round(images.numel() * images.element_size() / 2**20, 1),
        "dtype": str(images.dtype).replace("torch.", ""),
        "steps": args.steps,
        "ms_per_step": round(statistics.median(times), 1),
        "peak_rss_after_loading_mb": round(loaded_mb, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }))


if __name__ == "__main__":
    main()
