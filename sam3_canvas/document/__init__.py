"""The project's data model: one image's annotations (``Document`` of ``Instance``), label
classes (``LabelSet``) and masks as COCO RLE. It sits below both the dataset formats
(``annotations/``) and the application state (``app/``), which import it, never the reverse.
"""

from .annotation import Document, DocumentError, Instance, prompt_source
from .labels import LabelClass, LabelSet

__all__ = ["Document", "DocumentError", "Instance", "LabelClass", "LabelSet", "prompt_source"]
