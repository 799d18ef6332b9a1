"""Qt-free application state: the open folder, documents, labels, commands, the worker."""
