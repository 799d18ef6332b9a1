"""Measuring the models on the user's own data: the interactive-segmentation protocol (NoC),
COCO AP for text prompts, and a speed and agreement benchmark of packs and providers."""
