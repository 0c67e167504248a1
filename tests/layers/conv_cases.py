"""The convolution grids the gradient, reference and oracle tests share (kept in one place so they stay in step)."""

# (kernel_size, strides, padding, dilation_rate, c_in, filters, input h x w): odd sizes, even kernels with "same",
# strides that do not divide the input, dilations, and strides with dilations.
CONV2D_CASES = [
    (1, 1, "valid", 1, 1, 2, (4, 3)),
    (3, 1, "valid", 1, 1, 2, (5, 5)),
    (3, 1, "same", 1, 2, 3, (5, 4)),
    (2, 1, "same", 1, 2, 2, (5, 5)),
    ((2, 2), 2, "same", 1, 3, 2, (5, 6)),
    ((4, 2), (1, 2), "same", 1, 1, 2, (5, 5)),
    ((3, 2), (2, 1), "valid", 1, 2, 3, (7, 5)),
    (3, 2, "valid", 1, 5, 2, (7, 7)),
    (3, 2, "same", 1, 5, 2, (6, 7)),
    (3, 1, "valid", 2, 2, 2, (6, 6)),
    (2, 1, "same", (2, 1), 4, 2, (5, 4)),
    ((2, 3), (2, 1), "same", (1, 2), 3, 2, (5, 6)),
    (3, 2, "valid", 2, 1, 2, (7, 8)),
    (5, 3, "same", 1, 1, 1, (4, 4)),
]

# (kernel_size, strides, padding, dilation_rate, c_in, filters, steps): "same" and "causal", strides, dilations.
CONV1D_CASES = [
    (1, 1, "valid", 1, 1, 2, 5),
    (3, 1, "valid", 1, 1, 2, 7),
    (4, 1, "same", 1, 2, 3, 7),
    (2, 2, "same", 1, 3, 2, 9),
    (3, 2, "valid", 1, 5, 2, 10),
    (3, 1, "causal", 1, 2, 2, 6),
    (2, 3, "causal", 2, 1, 2, 11),
    (3, 1, "same", 3, 4, 2, 9),
    (5, 2, "valid", 2, 2, 1, 13),
]
