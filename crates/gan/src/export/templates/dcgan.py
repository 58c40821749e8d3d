

# --- model kind "dcgan" -------------------------------------------------------------------
# DCGAN (Radford et al. 2016) for C x s x s images, gantry's plan (`plan` below): a b x b
# base and k stride-2 stages, s = b * 2^k, widths w_i = c * 2^i (c = channels) doubling
# down the critic and halving up the generator:
#   G: z -> Linear w_{k-1}*b*b (BN, ReLU) -> view w_{k-1} x b x b
#        -> for i = k-2 .. 0: ConvT w_{i+1}->w_i k4 s2 p1 (BN, ReLU) -> ConvT w_0->C k4 s2 p1 -> tanh
#   D = psi . phi, phi: for i = 0 .. k-1: Conv (C or w_{i-1})->w_i k4 s2 p1 (LReLU 0.2) -> flatten,
#        psi: Linear w_{k-1}*b*b -> 1; optionally every critic layer spectrally normalized
#        (SNGAN, Miyato et al. 2018).
# Class-conditional ([model.conditional], K classes): the generator's batch norms become
# ConditionalBatchNorms ("cbn"), or a K-wide label embedding is concatenated to z
# ("concat"); the critic adds <embed(y), phi(x)> to its logit, the [K, features] embedding
# spectrally normalized with the rest ("projection"), or has a classifier
# Linear features -> K on phi(x) ("acgan").


def plan(sample_shape):
    """`(C, b, k)` for C x s x s images: two stages from an (s/4)^2 base, and one more for
    each further halving of the base while it is even and larger than 4."""
    base, stages = sample_shape[1] // 4, 2
    while base > 4 and base % 2 == 0:
        base, stages = base // 2, stages + 1
    return sample_shape[0], base, stages


def generator(model, sample_shape, num_classes=0):
    image_channels, b, k = plan(sample_shape)
    conditional = model.get("conditional")
    how = conditional["generator"] if conditional else None

    def batch_norm(features, images):
        if how == "cbn":
            return ConditionalBatchNorm(features, num_classes, images)
        return nn.BatchNorm2d(features) if images else nn.BatchNorm1d(features)

    def width(stage):
        return model["channels"] << stage

    top = width(k - 1)
    z_in = model["z_dim"] + (num_classes if how == "concat" else 0)
    layers = [
        dcgan_init(nn.Linear(z_in, top * b * b)),
        batch_norm(top * b * b, images=False),
        nn.ReLU(),
        nn.Unflatten(1, (top, b, b)),
    ]
    for stage in reversed(range(k - 1)):
        layers += [
            dcgan_init(nn.ConvTranspose2d(width(stage + 1), width(stage), 4, 2, 1)),
            batch_norm(width(stage), images=True),
            nn.ReLU(),
        ]
    layers += [dcgan_init(nn.ConvTranspose2d(width(0), image_channels, 4, 2, 1)), nn.Tanh()]
    if how is None:
        return nn.Sequential(*layers)
    embed = nn.Embedding(num_classes, num_classes) if how == "concat" else None
    return Generator(layers, embed)


def critic(model, sample_shape, num_classes=0):
    image_channels, b, k = plan(sample_shape)
    sn = model["spectral_norm"]
    trunk, width = [], image_channels
    for stage in range(k):
        to = model["channels"] << stage
        trunk += [maybe_spectral_norm(dcgan_init(nn.Conv2d(width, to, 4, 2, 1)), sn), nn.LeakyReLU(0.2)]
        width = to
    trunk.append(nn.Flatten())
    features = width * b * b
    head = maybe_spectral_norm(dcgan_init(nn.Linear(features, 1)), sn)
    conditional = model.get("conditional")
    if conditional is None:
        return nn.Sequential(*trunk, head)
    if conditional["critic"] == "projection":
        embed = maybe_spectral_norm(dcgan_init(nn.Embedding(num_classes, features)), sn)
        return Critic(trunk, head, embed=embed)
    classifier = maybe_spectral_norm(dcgan_init(nn.Linear(features, num_classes)), sn)
    return Critic(trunk, head, classifier=classifier)
