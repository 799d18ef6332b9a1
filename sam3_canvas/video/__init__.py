"""Video without Qt: frames of a clip or a folder read on demand into a bounded cache
(``frames``), and following an object from frame to frame (``follow``)."""
