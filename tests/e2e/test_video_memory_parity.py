"""The memory path against transformers' own video propagation, on the same weights.

A tiny random-weight ``Sam3TrackerVideoModel`` (its memory turned up, see
``build_tiny_video_tracker``) is exported by the project's export code. transformers tracks a
synthetic clip with ``Sam3TrackerVideoInferenceSession`` + ``propagate_in_video_iterator``;
the app tracks it with ``follow(method="memory")`` over the ONNX graphs. Both get the same
pixels (preprocessing parity is ``test_twin_parity.py``'s job), so what is compared is the
memory: which frames are remembered, how, and what each frame attends to. The memory is short
in the twin (3 memories, 4 pointers) so that 8 frames slide past both limits.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the export extra (torch) is not installed")
pytest.importorskip("torchvision", reason="the export extra (torchvision) is not installed")
transformers = pytest.importorskip("transformers", reason="the export extra is not installed")

from sam3_canvas.engine import Prompt, Segmenter  # noqa: E402
from sam3_canvas.engine.preprocess import pixel_values  # noqa: E402
from sam3_canvas.testing.fake_video import Clip  # noqa: E402
from sam3_canvas.video.follow import StopRules, follow, follow_mask  # noqa: E402
from sam3_canvas.video.frames import FrameFolder  # noqa: E402
from sam3_canvas.video.memory import to_bfloat16  # noqa: E402

pytestmark = pytest.mark.twin

CLIP = Clip(frames=8, width=160, height=120, radius=14, start=(40.0, 60.0), step=(6.0, 1.0))
NEVER_STOP = StopRules(min_iou=0.0, min_presence=0.0, max_area_change=1e9)


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    from sam3_canvas.twins.video_export import build_tiny_video_tracker, export_video_tracker

    model = build_tiny_video_tracker(seed=0)
    folder = tmp_path_factory.mktemp("video_twin")
    export_video_tracker(model, folder)
    frames = CLIP.write_frames(tmp_path_factory.mktemp("clip"))
    return model, folder, frames


@pytest.fixture(scope="module")
def processor():
    from transformers import Sam3TrackerVideoProcessor
    from transformers.models.sam2_video.video_processing_sam2_video import (
        Sam2VideoVideoProcessor,
    )
    from transformers.models.sam3.image_processing_sam3 import Sam3ImageProcessor

    video = Sam2VideoVideoProcessor(size={"height": 1008, "width": 1008},
                                    image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return Sam3TrackerVideoProcessor(image_processor=Sam3ImageProcessor(),
                                     video_processor=video, target_size=1008)


def _reference(model, processor, start, directions, point=None, mask=None):
    """transformers' masks and memory-conditioned features per frame."""
    from transformers import Sam3TrackerVideoInferenceSession

    pixels = torch.from_numpy(np.concatenate(
        [pixel_values(CLIP.frame(i), 1008, 1008, np.float32) for i in range(CLIP.frames)]))
    session = Sam3TrackerVideoInferenceSession(
        video=pixels, video_height=CLIP.height, video_width=CLIP.width,
        inference_device="cpu", dtype=torch.float32)
    if mask is not None:
        processor.add_inputs_to_inference_session(session, frame_idx=start, obj_ids=1,
                                                  input_masks=mask)
    else:
        processor.add_inputs_to_inference_session(
            session, frame_idx=start, obj_ids=1, input_points=[[[list(point)]]],
            input_labels=[[[1]]], original_size=(CLIP.height, CLIP.width))
    conditioned, chosen = {}, {}
    prepare, gather, pointers = (model._prepare_memory_conditioned_features,
                                 model._gather_memory_frame_outputs, model._get_object_pointers)

    def capture_prepare(*args, **kwargs):
        result = prepare(*args, **kwargs)
        if not kwargs["is_initial_conditioning_frame"]:
            conditioned[kwargs["frame_idx"]] = result.numpy().copy()
        return result

    def capture_gather(session, obj_idx, frame_idx, *args):
        result = gather(session, obj_idx, frame_idx, *args)
        chosen.setdefault(frame_idx, {})["memories"] = [
            (offset, out["maskmem_features"].float().numpy()) for offset, out in result
            if out is not None]
        return result

    def capture_pointers(session, obj_idx, frame_idx, *args):
        offsets, tokens, most = pointers(session, obj_idx, frame_idx, *args)
        chosen.setdefault(frame_idx, {})["pointers"] = (
            np.array(offsets, np.float32) / (most - 1),
            np.stack([t.reshape(-1).numpy() for t in tokens]))
        return offsets, tokens, most

    masks = {}
    model._prepare_memory_conditioned_features = capture_prepare
    model._gather_memory_frame_outputs = capture_gather
    model._get_object_pointers = capture_pointers
    try:
        with torch.no_grad():
            for reverse in directions:
                for out in model.propagate_in_video_iterator(session, start_frame_idx=start,
                                                             reverse=reverse):
                    masks[out.frame_idx] = processor.post_process_masks(
                        [out.pred_masks], original_sizes=[[CLIP.height, CLIP.width]],
                        binarize=True)[0][0, 0].numpy().astype(bool)
    finally:
        for name in ("_prepare_memory_conditioned_features", "_gather_memory_frame_outputs",
                     "_get_object_pointers"):
            delattr(model, name)
    return masks, conditioned, chosen


@pytest.fixture
def capture_conditioned(monkeypatch):
    """The app's memory-conditioned features, in the order the frames were tracked."""
    from sam3_canvas.engine.memory import MemoryGraphs

    seen = []
    original = MemoryGraphs.attend

    def attend(self, embedding, **inputs):
        result = original(self, embedding, **inputs)
        seen.append((result, inputs))
        return result

    monkeypatch.setattr(MemoryGraphs, "attend", attend)
    return seen


def _iou(a, b):
    union = (a | b).sum()
    return 1.0 if union == 0 else (a & b).sum() / union


def _check(ours, reference, order, seen):
    ref_masks, ref_conditioned, ref_chosen = reference
    assert sorted(ours) == sorted(ref_masks)
    areas = set()
    for frame, result in ours.items():
        assert result.mask is not None and result.stopped is None
        expected = ref_masks[frame]
        # the twin's masks are random shapes, but real ones: not empty, not the whole frame
        assert 0.02 < expected.mean() < 0.98, frame
        areas.add(int(expected.sum()))
        assert _iou(result.mask, expected) >= 0.99, frame
    assert len(areas) > 2  # the memory changes the masks from frame to frame
    tracked = [f for f in order if f in ref_conditioned]
    assert len(seen) == len(tracked) == len(ref_conditioned)
    for (features, inputs), frame in zip(seen, tracked):
        # the same memories, at the same offsets, in the same order (bfloat16 in both)
        memories = ref_chosen[frame]["memories"]
        assert inputs["offsets"].tolist() == [offset for offset, _ in memories], frame
        expected = np.stack([m.reshape(72, 72, -1).transpose(2, 0, 1) for _, m in memories])
        np.testing.assert_allclose(inputs["memories"], expected, atol=0.05, rtol=0.02)
        # the same object pointers at the same normalised distances
        positions, pointers = ref_chosen[frame]["pointers"]
        np.testing.assert_allclose(inputs["positions"], positions, atol=1e-6)
        np.testing.assert_allclose(inputs["pointers"], pointers, atol=1e-3)
        # and what the frame's features become
        np.testing.assert_allclose(features, ref_conditioned[frame], atol=5e-3)


def test_a_click_tracked_forward_matches_transformers(twin, processor, capture_conditioned):
    model, folder, frames = twin
    point = CLIP.centre(0)
    segmenter = Segmenter.from_dir(folder)
    ours = {r.frame: r for r in follow(segmenter, FrameFolder(frames), 0, Prompt.click(*point),
                                       rules=NEVER_STOP, method="memory")}
    reference = _reference(model, processor, 0, [False], point=point)
    _check(ours, reference, list(range(1, CLIP.frames)), capture_conditioned)


def test_a_mask_tracked_both_ways_matches_transformers(twin, processor, capture_conditioned):
    """From a mask on frame 3: forward to the end, then backward with the forward frames'
    memories still there, as one transformers session does."""
    model, folder, frames = twin
    start, mask = 3, CLIP.mask(3)
    segmenter = Segmenter.from_dir(folder)
    ours = {r.frame: r for r in follow_mask(segmenter, FrameFolder(frames), start, mask,
                                            direction="both", rules=NEVER_STOP,
                                            method="memory")}
    masks, *memory = _reference(model, processor, start, [False, True], mask=mask)
    masks.pop(start)  # the given mask itself, which follow_mask does not repeat
    order = list(range(start + 1, CLIP.frames)) + list(range(start - 1, -1, -1))
    _check(ours, (masks, *memory), order, capture_conditioned)


def test_bfloat16_rounding_is_torchs():
    values = np.concatenate([np.random.default_rng(0).normal(0, 3, 10000),
                             [0.0, -0.0, 1.0, 1.00390625, 1.01171875, 3.0e38, -2.5e-39]])
    values = values.astype(np.float32)
    expected = torch.from_numpy(values).to(torch.bfloat16).float().numpy()
    np.testing.assert_array_equal(to_bfloat16(values), expected)


def test_a_long_track_keeps_only_the_memories_it_can_still_use(twin):
    """1.3 MB a frame at the real size: only frames near the current one or near a
    conditioning frame keep theirs; every pointer is kept (1 KB)."""
    from sam3_canvas.engine.memory import MemoryGraphs, memory_paths
    from sam3_canvas.video.memory import MemoryBank

    _, folder, _ = twin
    graphs = MemoryGraphs(memory_paths(folder / "prompt_encoder_mask_decoder.onnx"))
    reach = graphs.settings.num_maskmem  # 3 in the twin
    bank = MemoryBank(graphs, num_frames=40)
    rng = np.random.default_rng(0)
    embedding = rng.normal(size=(1, 256, 72, 72)).astype(np.float32)
    logits = rng.normal(size=(288, 288)).astype(np.float32)
    pointer = np.zeros(256, np.float32)
    bank.remember(20, embedding, logits, 1.0, pointer, conditioning=True)
    for frame in range(21, 40):
        bank.remember(frame, embedding, logits, 1.0, pointer, conditioning=False)
        bank.inputs_for(frame + 1, reverse=False)  # never picks a forgotten one
    kept = sorted(f for f, m in bank.tracked.items() if m.features is not None)
    assert kept == [f for f in range(21, 40) if f - 20 < reach or 39 - f < reach]
    assert sorted(bank.tracked) == list(range(21, 40))  # the pointers stay
    for frame in range(19, 10, -1):  # then backward from the conditioning frame
        inputs = bank.inputs_for(frame, reverse=True)
        assert len(inputs["memories"]) == len(inputs["offsets"])
        bank.remember(frame, embedding, logits, 1.0, pointer, conditioning=False)


def test_export_from_a_saved_model_folder(tmp_path):
    """``--from`` reads what ``from_pretrained`` reads (here a folder; facebook/sam3 on the
    Hub), and writes every graph with its weights in a sidecar, as the real size needs."""
    from sam3_canvas.engine.memory import MemoryGraphs, memory_paths
    from sam3_canvas.twins.video_export import build_tiny_video_tracker, main

    saved = tmp_path / "saved"
    build_tiny_video_tracker(1).save_pretrained(saved)
    out = tmp_path / "pack"
    assert main([str(out), "--from", str(saved)]) == 0
    names = {p.name for p in out.iterdir()}
    for graph in ("vision_encoder", "prompt_encoder_mask_decoder", "memory_encoder",
                  "memory_attention", "mask_pointer"):
        assert {f"{graph}.onnx", f"{graph}.onnx_data"} <= names
    segmenter = Segmenter.from_dir(out)
    assert segmenter.model.memory_unavailable is None
    graphs = MemoryGraphs(memory_paths(out / "prompt_encoder_mask_decoder.onnx"))
    assert graphs.settings.num_maskmem == 3 and graphs.settings.max_object_pointers == 4
