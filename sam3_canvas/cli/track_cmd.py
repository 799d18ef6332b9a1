"""``sam3-canvas track``: follow one object through a clip from a click or a box on one frame.

Writes ``DIR/<frame, 6 digits>.png`` (0/255, the clip's size) for every frame of the track and,
with ``--json``, per frame the predicted IoU, the presence and where (and why) it stopped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..annotations.mask_png import save_mask_png
from ..engine.errors import PromptError
from ..engine.prompts import BACKGROUND, FOREGROUND, Prompt
from .common import (
    add_model_options,
    json_safe,
    open_segmenter_from_args,
    parse_box,
    parse_pair,
    warn_about_model,
)


def add_parser(sub, common) -> None:
    p = sub.add_parser("track", parents=[common], help="follow an object through a video",
                       description="Prompt one frame of a clip (a video file or a folder of "
                                   "numbered frames) and follow the object frame by frame; "
                                   "it stops by itself where the object is lost.")
    p.add_argument("--video", required=True, type=Path, metavar="CLIP",
                   help="mp4, mov, avi, mkv, webm ..., or a folder of numbered images")
    p.add_argument("--frame", type=int, default=0, metavar="N", help="the prompted frame (0)")
    p.add_argument("--point", action="append", type=parse_pair, default=[], metavar="X,Y")
    p.add_argument("--bg-point", action="append", type=parse_pair, default=[], metavar="X,Y")
    p.add_argument("--box", type=parse_box, metavar="X1,Y1,X2,Y2")
    p.add_argument("--direction", choices=("forward", "backward", "both"), default="forward")
    p.add_argument("--max-frames", type=int, metavar="K",
                   help="at most K frames past the prompted one in each direction")
    p.add_argument("--method", choices=("auto", "memory", "reprompt"), default="auto",
                   help="memory: SAM3's video memory (packs with the memory graphs); "
                        "reprompt: each frame prompted from the previous mask (every pack); "
                        "auto (default): memory when the pack has it")
    p.add_argument("--min-iou", type=float, default=0.5,
                   help="stop where the predicted IoU falls below this (0.5)")
    p.add_argument("--min-presence", type=float, default=0.5,
                   help="stop where the object-presence probability falls below this (0.5)")
    p.add_argument("--output", "-o", type=Path, metavar="DIR",
                   help="write a mask PNG per frame here")
    p.add_argument("--label", metavar="NAME",
                   help="also save the track in the clip folder's annotations (the app's "
                        "files, .sam3-canvas/<clip>.frames/), as a new track with this label")
    p.add_argument("--track-id", type=int, metavar="N",
                   help="with --label: replace track N from the prompted frame on instead")
    p.add_argument("--json", action="store_true", help="print per-frame results as JSON")
    add_model_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..video.follow import StopRules, follow, resolve_method
    from ..video.frames import open_frames

    points = tuple(args.point) + tuple(args.bg_point)
    labels = (FOREGROUND,) * len(args.point) + (BACKGROUND,) * len(args.bg_point)
    prompt = Prompt(points=points, labels=labels, box=args.box)
    if not args.point and args.box is None:
        raise PromptError("give the object with --point or --box (a --bg-point alone "
                          "selects nothing)")
    if args.max_frames is not None and args.max_frames < 0:
        raise PromptError("--max-frames must be 0 or more")
    if args.output is None and args.label is None:
        raise PromptError("say where the track goes: --output DIR (mask PNGs), --label NAME "
                          "(the clip folder's annotations), or both")
    if args.track_id is not None and args.label is None:
        raise PromptError("--track-id needs --label")
    frames = open_frames(args.video)
    if not 0 <= args.frame < len(frames):
        raise PromptError(f"--frame {args.frame}: the clip has frames 0 to {len(frames) - 1}")
    segmenter = open_segmenter_from_args(args)
    warn_about_model(segmenter.model.fallback_reason)
    method = resolve_method(segmenter, args.method)
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    results, kept_results = [], []
    rules = StopRules(min_iou=args.min_iou, min_presence=args.min_presence)
    with tqdm(unit="frame", file=sys.stderr, disable=None) as progress:
        for result in follow(segmenter, frames, args.frame, prompt, args.direction,
                             args.max_frames, rules, method=method):
            entry = result.to_dict()
            entry["mask"] = None
            if result.mask is not None:
                if args.output is not None:
                    path = args.output / f"{result.frame:06d}.png"
                    save_mask_png(path, result.mask)
                    entry["mask"] = str(path)
                kept_results.append(result)
            results.append(entry)
            progress.update(1)
    frames.close()
    track = None
    if args.label is not None:
        from ..app.project import Project
        from ..app.video_tracks import write_track
        project = Project(args.video.parent)
        track, _ = write_track(project, args.video, (frames.width, frames.height),
                               kept_results, args.label, args.frame, args.track_id,
                               args.direction)
    kept = [r for r in results if not r["stopped"]]
    stops = [r for r in results if r["stopped"]]
    if args.json:
        json.dump(json_safe({"video": str(args.video), "frames": len(frames),
                             "fps": frames.fps, "prompted_frame": args.frame,
                             "method": method,
                             "track_id": track, "results": results}), sys.stdout, indent=2,
                             allow_nan=False)
        sys.stdout.write("\n")
    else:
        where = [str(args.output)] if args.output is not None else []
        if track is not None:
            where.append(f"track {track} ({args.label}) in {args.video.parent / '.sam3-canvas'}")
        print(f"{args.video}: tracked {len(kept)} frames with {method} "
              f"({min(r['frame'] for r in kept)} to {max(r['frame'] for r in kept)}) into "
              f"{' and '.join(where)}")
        for stop in stops:
            print(f"  stopped at frame {stop['frame']}: {stop['stopped']}")
    return 0
