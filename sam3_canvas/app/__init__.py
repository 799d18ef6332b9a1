"""Qt-free application state, not the application's windows (those are ``gui/``): the open
folder (``project``), the image being annotated (``editor``), undoable ``commands``, the user's
``settings``, a project's dataset import and export (``datasets``) and the inference
``worker`` threads. The data model itself (documents, labels) is ``sam3_canvas.document``."""
