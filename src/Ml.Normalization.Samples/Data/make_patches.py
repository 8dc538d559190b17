#!/usr/bin/env python3
"""Cuts the samples' image patches (Data/images/) out of four public-domain / CC0 photos that scikit-image ships.

The photos come from Debian's package python3-skimage (0.19.3-8, bookworm); the licence of each is in Data/README.md.
Run from the repository root with Pillow (Debian: python3-pil; nothing else is needed):

    apt-get download python3-skimage && dpkg-deb -x python3-skimage_*.deb /tmp/skimage
    /usr/bin/python3 src/Ml.Normalization.Samples/Data/make_patches.py /tmp/skimage/usr/lib/python3/dist-packages/skimage/data

Each photo is cut into a grid of non-overlapping PATCH x PATCH tiles (no pixel is in two patches, so a train/test split
of patches does not leak pixels), PER_PHOTO tiles are drawn from that grid with a fixed seed, and each is saved as
Data/images/<photo>/<photo>_r<row>_c<col>.jpg, row and column in tiles. The label of a patch is its photo. The output
is the same on every run (fixed seed, fixed JPEG settings, no metadata).
"""
import random
import sys
from pathlib import Path

from PIL import Image

PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"]
PATCH = 48          # pixels per side; the sample resizes them to 32 x 32
PER_PHOTO = 50      # chelsea (451 x 300) has 9 x 6 = 54 tiles, the fewest
SEED = 12
QUALITY = 90


def main(source: Path, target: Path) -> None:
    rng = random.Random(SEED)
    for name in PHOTOS:
        photo = Image.open(source / name).convert("RGB")
        columns, rows = photo.width // PATCH, photo.height // PATCH
        tiles = sorted(rng.sample([(r, c) for r in range(rows) for c in range(columns)], PER_PHOTO))
        label = Path(name).stem
        folder = target / label
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.jpg"):
            old.unlink()
        for r, c in tiles:
            tile = photo.crop((c * PATCH, r * PATCH, (c + 1) * PATCH, (r + 1) * PATCH))
            tile.save(folder / f"{label}_r{r:02d}_c{c:02d}.jpg", quality=QUALITY, optimize=True)
        print(f"{label}: {photo.width} x {photo.height}, {rows} x {columns} tiles, kept {len(tiles)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(__file__).resolve().parent / "images")
