"""Images as users bring them: every mode, EXIF rotation, and every way a file can be bad."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from sam3_canvas.engine.errors import ImageLoadError
from sam3_canvas.engine.images import image_from_array, load_image


def _png_with_size(path, width, height):
    """A PNG whose header claims width x height (the pixel data is a tiny stub)."""
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    ihdr_at = data.index(b"IHDR")
    data[ihdr_at + 4:ihdr_at + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr_at:ihdr_at + 17]))
    data[ihdr_at + 17:ihdr_at + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


def test_real_jpeg_loads_as_rgb_with_its_own_size(photo):
    img = load_image(photo)
    assert img.rgb.dtype == np.uint8 and img.rgb.shape == (321, 481, 3)
    assert img.rgb.flags["C_CONTIGUOUS"]
    assert (img.width, img.height) == (481, 321)


def test_content_key_follows_bytes_not_name(photo, tmp_path):
    copy = tmp_path / "renamed.jpg"
    copy.write_bytes(photo.read_bytes())
    assert load_image(copy).key == load_image(photo).key
    other = tmp_path / "other.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(other)
    assert load_image(other).key != load_image(photo).key


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = 255  # left half white
    img = Image.fromarray(pixels)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif, quality=95)
    loaded = load_image(path)
    assert (loaded.width, loaded.height) == (20, 40)
    assert loaded.rgb[:20].mean() > 200 and loaded.rgb[20:].mean() < 50  # white moved to top


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "CMYK", "P", "1", "I;16", "I", "F"])
def test_every_mode_becomes_rgb(tmp_path, mode):
    gradient = np.tile(np.linspace(0, 1, 64), (32, 1))
    if mode in ("I;16", "I"):
        img = Image.fromarray((gradient * 65535).astype(np.uint16 if mode == "I;16" else np.int32))
        img = img if mode == "I;16" else img.convert("I")
    elif mode == "F":
        img = Image.fromarray((gradient * 1000.0).astype(np.float32))
    else:
        img = Image.fromarray((gradient * 255).astype(np.uint8)).convert(mode)
    suffix = ".tif" if mode in ("F", "CMYK", "I") else ".png"
    path = tmp_path / f"img{suffix}"
    img.save(path)
    loaded = load_image(path)
    assert loaded.rgb.shape == (32, 64, 3) and loaded.rgb.dtype == np.uint8
    if mode not in ("1",):
        # the full range survives: left dark, right bright (16-bit not clipped to white)
        assert loaded.rgb[:, :4].mean() < 60 and loaded.rgb[:, -4:].mean() > 190


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (10, 10), 1)
    img.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    img.info["transparency"] = 0
    path = tmp_path / "p.png"
    img.save(path, transparency=0)
    assert tuple(load_image(path).rgb[5, 5]) == (200, 10, 10)


def test_sixteen_bit_png_keeps_its_range(tmp_path):
    arr = np.full((8, 8), 30000, np.uint16)
    path = tmp_path / "sixteen.png"
    Image.fromarray(arr).save(path)
    value = load_image(path).rgb[0, 0, 0]
    assert value == round(30000 * 255 / 65535)  # scaled, not clipped to 255


def test_twelve_bit_values_in_a_sixteen_bit_file_use_the_full_range(tmp_path):
    """A 12-bit camera or scanner image saved as 16-bit: scaled from 0..4095, not 0..65535
    (which reached the model nearly black), and the user is told."""
    arr = np.linspace(0, 4095, 64 * 64).reshape(64, 64).astype(np.uint16)
    path = tmp_path / "twelve.tif"
    Image.fromarray(arr).save(path)
    image = load_image(path)
    assert image.rgb.max() == 255 and abs(int(image.rgb[32, 32, 0]) - 128) <= 2
    assert "12-bit" in image.note and "0..4095" in image.note


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "nope.jpg")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is text, not a JPEG")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(path)


def test_truncated_jpeg(photo, tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(photo.read_bytes()[:4000])
    with pytest.raises(ImageLoadError, match="truncated|corrupt"):
        load_image(path)


def test_huge_image_refused_before_decoding(tmp_path):
    path = _png_with_size(tmp_path / "huge.png", 30000, 30000)
    with pytest.raises(ImageLoadError, match="900 megapixels"):
        load_image(path)


def test_zero_size_image(tmp_path):
    path = _png_with_size(tmp_path / "zero.png", 0, 10)
    with pytest.raises(ImageLoadError):
        load_image(path)
    with pytest.raises(ImageLoadError, match="no pixels"):
        image_from_array(np.zeros((0, 5, 3), np.uint8))


def test_a_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_arrays_of_any_dtype(tmp_path):
    gray16 = (np.tile(np.linspace(0, 1, 16), (8, 1)) * 65535).astype(np.uint16)
    img = image_from_array(gray16)
    assert img.rgb.shape == (8, 16, 3) and img.rgb[:, -1].min() == 255
    rgba = np.zeros((4, 4, 4), np.uint8)
    assert image_from_array(rgba).rgb.shape == (4, 4, 3)
    with pytest.raises(ImageLoadError, match="not an image"):
        image_from_array(np.zeros((4, 4, 7)))


def test_a_192_megapixel_header_is_read_under_the_200_mp_limit(tmp_path):
    """Pillow's own bomb check (at 179 MP) once refused what `segment` accepts (200 MP): the
    limit is one setting, and reading a header never decodes the image."""
    from sam3_canvas.engine.images import image_size
    from tests.faults.conftest import png_header
    path = tmp_path / "big.png"
    path.write_bytes(png_header(16000, 12000))
    assert image_size(path) == (16000, 12000)
    over = tmp_path / "over.png"
    over.write_bytes(png_header(15000, 14000))
    with pytest.raises(ImageLoadError, match="210 megapixels, over the 200 MP limit"):
        image_size(over)
