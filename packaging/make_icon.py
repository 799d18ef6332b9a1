"""Draw the application icon (resources/icon.png, 512 px) and derive the Windows .ico and the
macOS .icns from it with Pillow. The PNG is committed; build.py makes the other two.

    python packaging/make_icon.py            # redraw resources/icon.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
ICON = ROOT / "resources" / "icon.png"
SIZE = 512


def draw() -> Image.Image:
    """A dark canvas tile, a mask drawn over an object as a translucent blob with its
    outline, and the green click that made it: what the app does, at a glance."""
    scale = 4  # drawn large and shrunk: smooth edges without an antialiasing library
    n = SIZE * scale
    tile = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(tile)
    d.rounded_rectangle((n * 0.04, n * 0.04, n * 0.96, n * 0.96), radius=n * 0.18,
                        fill=(38, 42, 54, 255))
    # the photo: a horizon and a sun
    d.rounded_rectangle((n * 0.14, n * 0.16, n * 0.86, n * 0.84), radius=n * 0.06,
                        fill=(70, 104, 140, 255))
    d.polygon([(n * 0.14, n * 0.70), (n * 0.40, n * 0.52), (n * 0.58, n * 0.64),
               (n * 0.86, n * 0.46), (n * 0.86, n * 0.84), (n * 0.14, n * 0.84)],
              fill=(52, 80, 70, 255))
    d.ellipse((n * 0.66, n * 0.22, n * 0.78, n * 0.34), fill=(240, 200, 90, 255))
    # the mask: a soft blob over the object, with an outline
    mask = Image.new("L", (n, n), 0)
    m = ImageDraw.Draw(mask)
    m.ellipse((n * 0.24, n * 0.30, n * 0.62, n * 0.74), fill=255)
    m.ellipse((n * 0.40, n * 0.42, n * 0.74, n * 0.76), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(n * 0.01))
    colour = Image.new("RGBA", (n, n), (255, 92, 122, 150))
    tile.paste(colour, (0, 0), mask.point(lambda v: 150 if v > 127 else 0))
    edge = mask.point(lambda v: 255 if v > 127 else 0).filter(ImageFilter.FIND_EDGES)
    edge = edge.filter(ImageFilter.MaxFilter(2 * int(n * 0.006) + 1))
    tile.paste(Image.new("RGBA", (n, n), (255, 120, 150, 255)), (0, 0), edge)
    # the click
    cx, cy, r = n * 0.47, n * 0.56, n * 0.045
    d = ImageDraw.Draw(tile)
    d.ellipse((cx - r * 1.5, cy - r * 1.5, cx + r * 1.5, cy + r * 1.5), fill=(255, 255, 255, 255))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(40, 220, 90, 255))
    return tile.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def derive(png: Path, out: Path) -> tuple[Path, Path]:
    """``sam3-canvas.ico`` (Windows) and ``sam3-canvas.icns`` (macOS) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    image = Image.open(png).convert("RGBA")
    ico, icns = out / "sam3-canvas.ico", out / "sam3-canvas.icns"
    image.save(ico, sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    image.save(icns)
    return ico, icns


if __name__ == "__main__":
    draw().save(ICON, optimize=True)
    print(f"wrote {ICON}")
    sys.exit(0)
