"""Reference timings of the standard small-GAN workloads in PyTorch CPU.

Workloads (the same ones `gantry bench` runs; see crates/gan/src/train/workloads.rs):
  toy-wgangp : WGAN-GP toy (Gulrajani et al. 2017): G 2-512-512-512-2, D 2-512-512-512-1, ReLU,
               batch 256, n_critic 5, lambda 10, Adam(1e-4, (0.5, 0.9)); one G iteration = 5 critic steps + 1 G step
  mlp-ns     : MLP GAN on 28x28: G 100-256-512-1024-784 (LeakyReLU 0.2, tanh), D 784-512-256-1, batch 64,
               non-saturating loss, Adam(2e-4, (0.5, 0.999)); 1 D step + 1 G step
  dcgan-sn-hinge : DCGAN 28x28: G z100 -> linear 7*7*128 (BN, ReLU) -> convT 128->64 k4 s2 p1 (BN, ReLU)
               -> convT 64->1 k4 s2 p1 tanh; D conv 1->64 k4 s2 p1 (LReLU) -> conv 64->128 k4 s2 p1 (LReLU) -> linear 6272->1,
               all D layers spectral-normalized, hinge loss, Adam(2e-4,(0.5,0.999)), batch 64, 1 D + 1 G step
  dcgan-wgangp : same G, same D without SN, WGAN-GP lambda 10 (double backward through conv), 1 D + 1 G step
Prints one JSON line per workload: ms per iteration (median of timed iterations).

    python benches/peers/torch_gan_steps.py [THREADS] [WORKLOAD,WORKLOAD,...]   (default: 2, all)
"""
import json, sys, time, statistics
import torch, torch.nn as nn, torch.nn.functional as F

SN = nn.utils.parametrizations.spectral_norm

def mlp(sizes, act, last=None):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    if last: layers.append(last())
    return nn.Sequential(*layers)

def gp(D, real, fake):
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)))
    xh = (eps * real + (1 - eps) * fake).requires_grad_(True)
    g, = torch.autograd.grad(D(xh).sum(), xh, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()

class G28(nn.Module):
    def __init__(s):
        super().__init__()
        s.fc = nn.Linear(100, 7 * 7 * 128); s.bn0 = nn.BatchNorm1d(7 * 7 * 128)
        s.c1 = nn.ConvTranspose2d(128, 64, 4, 2, 1); s.bn1 = nn.BatchNorm2d(64)
        s.c2 = nn.ConvTranspose2d(64, 1, 4, 2, 1)
    def forward(s, z):
        h = F.relu(s.bn0(s.fc(z))).view(-1, 128, 7, 7)
        return torch.tanh(s.c2(F.relu(s.bn1(s.c1(h)))))

class D28(nn.Module):
    def __init__(s, sn):
        super().__init__()
        w = SN if sn else (lambda m: m)
        s.c1 = w(nn.Conv2d(1, 64, 4, 2, 1)); s.c2 = w(nn.Conv2d(64, 128, 4, 2, 1)); s.fc = w(nn.Linear(7 * 7 * 128, 1))
    def forward(s, x):
        h = F.leaky_relu(s.c1(x), 0.2); h = F.leaky_relu(s.c2(h), 0.2)
        return s.fc(h.flatten(1))

def toy_wgangp():
    G = mlp([2, 512, 512, 512, 2], nn.ReLU); D = mlp([2, 512, 512, 512, 1], nn.ReLU)
    oG = torch.optim.Adam(G.parameters(), 1e-4, betas=(0.5, 0.9)); oD = torch.optim.Adam(D.parameters(), 1e-4, betas=(0.5, 0.9))
    def it():
        for _ in range(5):
            real = torch.randn(256, 2); fake = G(torch.randn(256, 2)).detach()
            loss = D(fake).mean() - D(real).mean() + 10 * gp(D, real, fake)
            oD.zero_grad(); loss.backward(); oD.step()
        loss = -D(G(torch.randn(256, 2))).mean(); oG.zero_grad(); loss.backward(); oG.step()
    return it

def mlp_ns():
    G = mlp([100, 256, 512, 1024, 784], lambda: nn.LeakyReLU(0.2), nn.Tanh); D = mlp([784, 512, 256, 1], lambda: nn.LeakyReLU(0.2))
    oG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)); oD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    def it():
        real = torch.rand(64, 784) * 2 - 1; fake = G(torch.randn(64, 100)).detach()
        loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean(); oD.zero_grad(); loss.backward(); oD.step()
        loss = F.softplus(-D(G(torch.randn(64, 100)))).mean(); oG.zero_grad(); loss.backward(); oG.step()
    return it

def dcgan(sn):
    G = G28(); D = D28(sn)
    oG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)); oD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    def it():
        real = torch.rand(64, 1, 28, 28) * 2 - 1; fake = G(torch.randn(64, 100)).detach()
        if sn:
            loss = F.relu(1 - D(real)).mean() + F.relu(1 + D(fake)).mean()
        else:
            loss = D(fake).mean() - D(real).mean() + 10 * gp(D, real, fake)
        oD.zero_grad(); loss.backward(); oD.step()
        loss = -D(G(torch.randn(64, 100))).mean(); oG.zero_grad(); loss.backward(); oG.step()
    return it

WORK = {"toy-wgangp": toy_wgangp, "mlp-ns": mlp_ns, "dcgan-sn-hinge": lambda: dcgan(True), "dcgan-wgangp": lambda: dcgan(False)}

if __name__ == "__main__":
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    names = sys.argv[2].split(",") if len(sys.argv) > 2 else list(WORK)
    unknown = [n for n in names if n not in WORK]
    if unknown:
        sys.exit(f"unknown workload {unknown[0]} (expected one of {', '.join(WORK)})")
    torch.set_num_threads(threads); torch.manual_seed(0)
    for name in names:
        it = WORK[name]()
        for _ in range(3): it()
        ts = []
        t_end = time.time() + 4
        while len(ts) < 5 or (time.time() < t_end and len(ts) < 100):
            t = time.perf_counter(); it(); ts.append((time.perf_counter() - t) * 1e3)
        print(json.dumps({"peer": f"pytorch-{torch.__version__}", "threads": threads, "workload": name, "ms_per_iter": round(statistics.median(ts), 3), "n": len(ts)}), flush=True)
