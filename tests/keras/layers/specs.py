"""The layer catalog's test specs, shared by the rill-only tests and the Keras differential
tests: (class name, constructor kwargs, input shape, options).

Options: ``int`` (integer inputs below ``int``), ``train`` (training mode differs from
inference deterministically), ``random`` (training mode is random: only inference is
compared), ``no_keras`` (TF cannot run it on CPU), ``keras_cl`` (TF's CPU kernels lack channels_first: Keras runs the
channels_last twin on transposed inputs).
"""

from __future__ import annotations

SPECS = [
    # convolution
    ("Conv1D", dict(filters=4, kernel_size=3), (2, 9, 3), {}),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2,
                    activation="relu"), (2, 9, 3), {}),
    ("Conv1D", dict(filters=6, kernel_size=2, strides=2, padding="same", groups=3), (2, 9, 6), {}),
    ("Conv2D", dict(filters=4, kernel_size=3), (2, 7, 6, 3), {}),
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"), (2, 7, 8, 3), {}),
    ("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=2, padding="same", groups=2,
                    use_bias=False), (2, 7, 8, 6), {}),
    ("Conv2D", dict(filters=4, kernel_size=3, data_format="channels_first",
                    activation="tanh"), (2, 3, 7, 6), {"keras_cl": True}),
    ("Conv3D", dict(filters=2, kernel_size=2, strides=(1, 2, 1), padding="same"),
     (2, 4, 5, 3, 3), {}),
    ("Conv1DTranspose", dict(filters=4, kernel_size=4, strides=3, output_padding=2),
     (2, 5, 3), {}),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2), (2, 4, 5, 3), {}),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same",
                             output_padding=1), (2, 4, 5, 3), {}),
    ("Conv2DTranspose", dict(filters=3, kernel_size=2, dilation_rate=2, padding="same"),
     (2, 4, 4, 2), {"no_keras": True}),  # TF's CPU kernels lack dilated transposes
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2,
                             data_format="channels_first"), (2, 3, 4, 5), {"keras_cl": True}),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2, padding="same"),
     (2, 3, 4, 3, 3), {}),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2), (2, 7, 3), {}),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, padding="same", strides=2),
     (2, 7, 7, 3), {}),
    ("SeparableConv1D", dict(filters=5, kernel_size=3, padding="same"), (2, 7, 3), {}),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, depth_multiplier=2, dilation_rate=2),
     (2, 7, 8, 3), {}),
    # pooling
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same"), (2, 9, 3), {}),
    ("MaxPooling2D", dict(), (2, 6, 7, 3), {}),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 6, 3), {}),
    ("MaxPooling2D", dict(pool_size=2, data_format="channels_first"), (2, 3, 6, 6),
     {"keras_cl": True}),
    ("MaxPooling3D", dict(pool_size=2, strides=(1, 2, 2)), (2, 4, 5, 4, 2), {}),
    ("AveragePooling1D", dict(pool_size=2), (2, 9, 3), {}),
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 6, 3), {}),
    ("AveragePooling3D", dict(pool_size=2), (2, 4, 4, 4, 2), {}),
    ("GlobalMaxPooling1D", dict(), (2, 9, 3), {}),
    ("GlobalMaxPooling2D", dict(keepdims=True), (2, 5, 6, 3), {}),
    ("GlobalMaxPooling3D", dict(data_format="channels_first"), (2, 3, 4, 4, 2), {}),
    ("GlobalAveragePooling1D", dict(), (2, 9, 3), {}),
    ("GlobalAveragePooling2D", dict(data_format="channels_first", keepdims=True),
     (2, 3, 5, 6), {}),
    ("GlobalAveragePooling3D", dict(), (2, 4, 4, 4, 2), {}),
    ("AdaptiveMaxPooling1D", dict(output_size=4), (2, 9, 3), {}),
    ("AdaptiveMaxPooling2D", dict(output_size=(3, 2)), (2, 7, 5, 3), {}),
    ("AdaptiveMaxPooling3D", dict(output_size=2), (2, 5, 4, 3, 2), {}),
    ("AdaptiveAveragePooling1D", dict(output_size=4), (2, 9, 3), {}),
    ("AdaptiveAveragePooling2D", dict(output_size=(3, 2), data_format="channels_first"),
     (2, 3, 7, 5), {}),
    ("AdaptiveAveragePooling3D", dict(output_size=2), (2, 5, 4, 3, 2), {}),
    # normalization
    ("BatchNormalization", dict(), (6, 4, 3), {"train": True}),
    ("BatchNormalization", dict(axis=1, momentum=0.9, epsilon=1e-2, center=False),
     (6, 3, 4, 2), {"train": True}),
    ("BatchNormalization", dict(renorm=True, renorm_clipping={"rmax": 2.0, "dmax": 1.0}),
     (6, 3), {"train": True}),
    ("LayerNormalization", dict(), (2, 4, 5), {}),
    ("LayerNormalization", dict(axis=[1, 2], scale=False), (2, 4, 5), {}),
    ("GroupNormalization", dict(groups=2), (2, 5, 6), {}),
    ("GroupNormalization", dict(groups=3, axis=1, center=False), (2, 6, 4, 2), {}),
    ("RMSNormalization", dict(), (2, 4, 5), {}),
    ("UnitNormalization", dict(axis=[1, 2]), (2, 4, 5), {}),
    # regularization and noise
    ("SpatialDropout1D", dict(rate=0.5), (2, 5, 3), {"random": True}),
    ("SpatialDropout2D", dict(rate=0.5, data_format="channels_first"), (2, 3, 4, 4),
     {"random": True}),
    ("SpatialDropout3D", dict(rate=0.3), (2, 3, 3, 3, 2), {"random": True}),
    ("GaussianNoise", dict(stddev=0.5), (2, 5, 3), {"random": True}),
    ("GaussianDropout", dict(rate=0.4), (2, 5, 3), {"random": True}),
    ("AlphaDropout", dict(rate=0.3), (2, 5, 3), {"random": True}),
    ("ActivityRegularization", dict(l1=0.1, l2=0.01), (2, 5, 3), {}),
    # activations
    ("ReLU", dict(), (2, 5, 3), {}),
    ("ReLU", dict(max_value=0.5, negative_slope=0.1, threshold=0.2), (2, 5, 3), {}),
    ("LeakyReLU", dict(negative_slope=0.2), (2, 5, 3), {}),
    ("PReLU", dict(shared_axes=[1], alpha_initializer="random_uniform"), (2, 5, 3), {}),
    ("ELU", dict(alpha=0.7), (2, 5, 3), {}),
    ("Softmax", dict(), (2, 5, 3), {}),
    ("Softmax", dict(axis=[1, 2]), (2, 5, 3), {}),
    # embedding, masking, dense family
    ("Embedding", dict(input_dim=10, output_dim=4, mask_zero=True), (2, 5), {"int": 10}),
    ("Masking", dict(mask_value=0.0), (2, 5, 3), {}),
    ("EinsumDense", dict(equation="abc,cd->abd", output_shape=(None, 4), bias_axes="d"),
     (2, 5, 3), {}),
    ("EinsumDense", dict(equation="...b,bc->...c", output_shape=4, activation="relu"),
     (2, 3, 5), {}),
    ("EinsumDense", dict(equation="ab...,bc->ac...", output_shape=(4,), bias_axes="c"),
     (2, 3, 5), {}),
    ("EinsumDense", dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"),
     (2, 4, 5), {}),
    ("Identity", dict(), (2, 5, 3), {}),
    # reshaping
    ("Permute", dict(dims=(2, 1)), (2, 5, 3), {}),
    ("Permute", dict(dims=(3, 1, 2)), (2, 5, 3, 4), {}),
    ("RepeatVector", dict(n=3), (2, 5), {}),
    ("Cropping1D", dict(cropping=(1, 2)), (2, 6, 3), {}),
    ("Cropping2D", dict(cropping=((1, 0), 2)), (2, 5, 6, 3), {}),
    ("Cropping2D", dict(cropping=1, data_format="channels_first"), (2, 3, 5, 6), {}),
    ("Cropping3D", dict(cropping=(1, 0, 1)), (2, 4, 4, 4, 2), {}),
    ("ZeroPadding1D", dict(padding=(1, 2)), (2, 5, 3), {}),
    ("ZeroPadding2D", dict(padding=((1, 0), 2)), (2, 4, 5, 3), {}),
    ("ZeroPadding2D", dict(padding=1, data_format="channels_first"), (2, 3, 4, 5), {}),
    ("ZeroPadding3D", dict(padding=(1, 0, 2)), (2, 3, 3, 3, 2), {}),
    ("UpSampling1D", dict(size=3), (2, 4, 3), {}),
    ("UpSampling2D", dict(size=(2, 3)), (2, 3, 4, 2), {}),
    ("UpSampling2D", dict(size=(2, 3), interpolation="bilinear"), (2, 3, 4, 2), {}),
    ("UpSampling2D", dict(size=2, interpolation="bilinear", data_format="channels_first"),
     (2, 2, 3, 4), {}),
    ("UpSampling3D", dict(size=(1, 2, 2)), (2, 2, 3, 3, 2), {}),
]  # fmt: skip


def spec_id(spec):
    name, kwargs, _, _ = spec
    args = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}({args})"
