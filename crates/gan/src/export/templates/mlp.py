

# --- model kind "mlp" ---------------------------------------------------------------------
# Fully connected networks for vector data (the WGAN-GP toy networks, Gulrajani et al.
# 2017): G: z -> hidden... -> data, D: data -> hidden... -> 1, ReLU or LeakyReLU(0.2),
# optionally a tanh on G's output and spectral normalization on every critic layer. Never
# class-conditional: `num_classes` is not read.


def activation(model):
    return nn.LeakyReLU(0.2) if model["leaky"] else nn.ReLU()


def generator(model, sample_shape, num_classes=0):
    layers, width = [], model["z_dim"]
    for h in model["g_hidden"]:
        layers += [nn.Linear(width, h), activation(model)]
        width = h
    layers.append(nn.Linear(width, sample_shape[0]))
    if model["tanh_output"]:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def critic(model, sample_shape, num_classes=0):
    sn = model["spectral_norm"]
    layers, width = [], sample_shape[0]
    for h in model["d_hidden"]:
        layers += [maybe_spectral_norm(nn.Linear(width, h), sn), activation(model)]
        width = h
    layers.append(maybe_spectral_norm(nn.Linear(width, 1), sn))
    return nn.Sequential(*layers)
