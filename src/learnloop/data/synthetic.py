"""Synthetic training data: digit images rendered from fonts, with random distortions (the notes' text images).

``synthetic_digits`` draws each digit 0-9 from the fonts bundled with matplotlib (several families, weights and
slants), then distorts every sample (rotation, scale, aspect, shear, shift, elastic wobble, stroke width, noise).
At ``size=8`` the images are made the way the UCI optdigits / scikit-learn digits were: a 32x32 binary bitmap
whose 4x4 blocks are counted (0..16), here divided by 16, so ``16 * images`` is comparable with
``load_digits().images``. At ``size=20`` the digit fills the frame; at ``size=28`` it sits in the central 20x20
box like MNIST; both are anti-aliased grey levels in [0, 1].
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from learnloop.data.augment import Seed, affine_coordinates, as_rng, elastic_warp, resample, rotation_matrices
from learnloop.errors import LearnloopError

Array = np.ndarray

# Fonts shipped inside matplotlib (so every install renders the same digits): the DejaVu and STIX families in four
# styles and the Computer Modern text faces. Math/symbol faces and fallback fonts are left out.
BUNDLED_FONTS = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmb10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmti10.ttf",
)
SIZES = (8, 20, 28)
_TEMPLATE = 64          # side of the pre-rendered glyph images
_GLYPH_BOX = 0.75       # the glyph's height (or width, if wider) as a fraction of the template
_SUPERSAMPLE = 2


def bundled_font_paths() -> list[Path]:
    """The font files of :data:`BUNDLED_FONTS` found in this matplotlib installation."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return [folder / name for name in BUNDLED_FONTS if (folder / name).is_file()]


def _rasterize(path, side: int) -> Array:
    """Grey coverage (side, side) in [0, 1] of a glyph outline fitted into the template's central box."""
    from matplotlib.path import Path as Path_

    box = path.get_extents()
    scale = _GLYPH_BOX * side / max(box.height, box.width, 1e-9)
    # Pixel centers, supersampled; image rows grow downward while font y grows upward.
    fine = side * _SUPERSAMPLE
    u = (np.arange(fine) + 0.5) / _SUPERSAMPLE
    cols, rows = np.meshgrid(u, u)
    x = (cols - side / 2) / scale + (box.x0 + box.x1) / 2
    y = (side / 2 - rows) / scale + (box.y0 + box.y1) / 2
    points = np.column_stack([x.ravel(), y.ravel()])
    # Even-odd rule over the outline's closed loops, so the holes of 0, 4, 6, 8, 9 stay open in every font.
    inside = np.zeros(len(points), dtype=bool)
    for loop in path.to_polygons():
        inside ^= Path_(loop).contains_points(points)
    inside = inside.reshape(fine, fine)
    return inside.reshape(side, _SUPERSAMPLE, side, _SUPERSAMPLE).mean(axis=(1, 3))


@lru_cache(maxsize=4)
def glyph_templates(fonts: tuple[str, ...]) -> Array:
    """(n_fonts, 10, 64, 64) grey renders of the digits 0-9 in each font, centered, height 3/4 of the frame."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    out = np.empty((len(fonts), 10, _TEMPLATE, _TEMPLATE))
    for i, font in enumerate(fonts):
        prop = FontProperties(fname=font)
        for digit in range(10):
            out[i, digit] = _rasterize(TextPath((0, 0), str(digit), size=1, prop=prop), _TEMPLATE)
    return out


def synthetic_digits(n: int, size: int = 8, seed: Seed = 0, *, distortion: float = 1.0, noise: float = 0.05,
                     fonts: list[str | Path] | None = None) -> tuple[Array, Array]:
    """Render ``n`` distorted digit images from fonts, with balanced labels 0-9.

    Args:
        n: number of images.
        size: 8 (optdigits/scikit-learn style, 4x4 block counts / 16), 20 (digit fills the frame) or 28 (MNIST
            style: the digit in the central 20x20 box).
        seed: int, Generator or None; the same seed gives the same images.
        distortion: scales every random distortion (0: clean, centered renders; 1: the default variety).
        noise: standard deviation of Gaussian noise added to the high-resolution image before it is reduced.
        fonts: font files to draw from (default: :func:`bundled_font_paths`).

    Returns:
        (images (n, size, size) float32 in [0, 1], labels (n,) int64).
    """
    from scipy import ndimage

    if size not in SIZES:
        raise LearnloopError(f"synthetic_digits() size must be one of {list(SIZES)}; got {size!r}.")
    if int(n) != n or n < 0:
        raise LearnloopError(f"synthetic_digits() n must be a non-negative int; got {n!r}.")
    if distortion < 0 or noise < 0:
        raise LearnloopError(f"synthetic_digits() expects distortion >= 0 and noise >= 0; got {distortion}, {noise}.")
    font_files = tuple(str(f) for f in (fonts if fonts is not None else bundled_font_paths()))
    if not font_files:
        raise LearnloopError("synthetic_digits() found no fonts: matplotlib's bundled fonts are missing; pass fonts=.")
    n = int(n)
    rng = as_rng(seed)
    labels = rng.permutation(np.resize(np.arange(10), n)).astype(np.int64)
    templates = glyph_templates(font_files)[rng.integers(len(font_files), size=n), labels]   # (n, 64, 64)

    hi = 4 * size                                          # render at 4x, then reduce 4x4 blocks
    fill = {8: 1.0, 20: 0.9, 28: 20 / 28}[size]           # digit height as a fraction of the frame
    d = distortion
    angle = np.deg2rad(rng.uniform(-12, 12, n) * d)
    height = fill / _GLYPH_BOX * (1 - rng.uniform(0, 0.1, n) * d)
    aspect = np.exp(rng.uniform(-0.25, 0.15, n) * d)       # handwriting is often narrower than type
    shear = rng.uniform(-0.2, 0.2, n) * d
    # Read matrix = inverse of (rotate . shear . scale): output offsets -> template offsets.
    inv_scale = np.zeros((n, 2, 2))
    inv_scale[:, 0, 0], inv_scale[:, 1, 1] = 1 / height, 1 / (height * aspect)
    inv_shear = np.zeros((n, 2, 2))
    inv_shear[:, 0, 0] = inv_shear[:, 1, 1] = 1
    inv_shear[:, 1, 0] = shear
    matrices = inv_scale @ inv_shear @ rotation_matrices(angle)
    shifts = rng.uniform(-0.03, 0.03, (n, 2)) * _TEMPLATE * d
    coords = affine_coordinates((_TEMPLATE, _TEMPLATE), matrices, shifts, out_shape=(hi, hi))
    images = resample(templates, coords, mode="constant")                                  # (n, hi, hi)
    if d > 0:
        images = elastic_warp(images, alpha=0.03 * hi * d, sigma=hi / 8, seed=rng)
    # Stroke width: pens draw wider than the thin faces, so strokes only grow (thinning erases hairlines).
    stroke = np.rint(rng.uniform(0.0, 1.5, n) * d * hi / 32).astype(int)
    for k in np.unique(stroke[stroke > 0]):
        idx = stroke == k
        images[idx] = ndimage.grey_dilation(images[idx], size=(1, 2 * k + 1, 2 * k + 1))
    images = images + rng.normal(0, noise, images.shape) if noise > 0 else images
    if size == 8:
        images = (images > 0.5).astype(np.float64)         # the optdigits bitmaps were binary
    blocks = np.clip(images, 0, 1).reshape(n, size, 4, size, 4).mean(axis=(2, 4))
    return blocks.astype(np.float32), labels
