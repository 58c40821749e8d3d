

# --- model kind "dcgan" -------------------------------------------------------------------
# DCGAN (Radford et al. 2016) for 1 x s x s images, s divisible by 4, with c = channels and
# b = s/4:
#   G: z -> Linear 2c*b*b (BN, ReLU) -> view 2c x b x b -> ConvT 2c->c k4 s2 p1 (BN, ReLU)
#        -> ConvT c->1 k4 s2 p1 -> tanh
#   D: Conv 1->c k4 s2 p1 (LReLU 0.2) -> Conv c->2c k4 s2 p1 (LReLU 0.2) -> flatten
#        -> Linear 2c*b*b -> 1, optionally every critic layer spectrally normalized (SNGAN).


def generator(model, sample_shape):
    z, c, b = model["z_dim"], model["channels"], sample_shape[1] // 4
    return nn.Sequential(
        dcgan_init(nn.Linear(z, 2 * c * b * b)),
        nn.BatchNorm1d(2 * c * b * b),
        nn.ReLU(),
        nn.Unflatten(1, (2 * c, b, b)),
        dcgan_init(nn.ConvTranspose2d(2 * c, c, 4, 2, 1)),
        nn.BatchNorm2d(c),
        nn.ReLU(),
        dcgan_init(nn.ConvTranspose2d(c, 1, 4, 2, 1)),
        nn.Tanh(),
    )


def critic(model, sample_shape):
    c, b, sn = model["channels"], sample_shape[1] // 4, model["spectral_norm"]
    return nn.Sequential(
        maybe_spectral_norm(dcgan_init(nn.Conv2d(1, c, 4, 2, 1)), sn),
        nn.LeakyReLU(0.2),
        maybe_spectral_norm(dcgan_init(nn.Conv2d(c, 2 * c, 4, 2, 1)), sn),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        maybe_spectral_norm(dcgan_init(nn.Linear(2 * c * b * b, 1)), sn),
    )
