"""sam3-canvas: SAM3 annotation on the desktop, and the Qt-free engine under it.

The library API for scripts lives in :mod:`sam3_canvas.engine`::

    from sam3_canvas.engine import Segmenter, Prompt
    seg = Segmenter.from_dir("models/sam3-tracker-q4")
    image = seg.encode("photo.jpg")            # the vision encoder runs once per image
    pred = seg.predict(image, Prompt.click(500, 300))
    print(pred.ious, pred.best_index)           # three candidates, ranked by predicted IoU
    mask = pred.mask()                         # bool array at the photo's own size
"""

__version__ = "0.1.0"
