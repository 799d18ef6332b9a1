"""Masks edited by hand, without Qt: brush and eraser strokes, polygons drawn or reshaped,
clean-ups (holes, islands, overlaps) and masks added or taken away.

Every operation works on a full-size bool mask, touches only the rectangle it changes and says
which rectangle that was, so the window repaints a few thousand pixels per mouse move, not a
12 MP mask. Turning a result into an undoable change of a document is app/'s work
(``Editor.cmd_set_mask``).
"""

from .geometry import Rect, union

__all__ = ["Rect", "union"]
