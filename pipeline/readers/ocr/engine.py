"""The recognition engine: RapidOCR's PP-OCRv4 ONNX models, shipped inside its wheel, on the CPU.

Nothing is fetched at run time: the model paths are the wheel's own files (checked before the engine
starts, so a broken install fails with the reason rather than a download attempt). One engine per
process, built on first use (a worker that never meets a picture never loads the models).

A recognised line's confidence is the *lowest* per-character probability, not RapidOCR's mean: one
blotted digit in `1288` must pull the cell below the threshold however sure the other three are.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.document import DocumentError

_lock = threading.Lock()
_engine: Any = None
# Cores per recognition: the parse pool already runs one worker per core.
THREADS = 1


@dataclass(frozen=True, slots=True)
class Recognised:
    """One line of text read from a crop: its text and the lowest per-character probability."""

    text: str
    confidence: float


def _models() -> dict[str, Path]:
    import rapidocr_onnxruntime

    root = Path(rapidocr_onnxruntime.__file__).parent / "models"
    models = {
        "det": root / "ch_PP-OCRv4_det_infer.onnx",
        "rec": root / "ch_PP-OCRv4_rec_infer.onnx",
        "cls": root / "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    }
    missing = [str(p) for p in models.values() if not p.is_file()]
    if missing:
        raise DocumentError(f"ocr: engine models missing from the installation: {', '.join(missing)}")
    return models


def engine() -> Any:
    """The process's RapidOCR instance (detector and recogniser), built once from the wheel's models."""
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            models = _models()
            _engine = RapidOCR(
                det_model_path=str(models["det"]),
                rec_model_path=str(models["rec"]),
                cls_model_path=str(models["cls"]),
                intra_op_num_threads=THREADS,
                inter_op_num_threads=THREADS,
            )
        return _engine


def recognise(crops: list[np.ndarray]) -> list[Recognised]:
    """Read one line of text from each crop (BGR uint8): text and its lowest character probability.

    The recogniser is run here rather than through RapidOCR's batching, which pads every crop to at
    least 320 × 48 pixels: a cell's number is a crop of ~60 × 48, so most of that work was padding.
    Crops are resized to the model's height, sorted by width and run in batches padded only to the
    widest crop of the batch (and `MIN_WIDTH`)."""
    if not crops:
        return []
    rec = engine().text_rec
    sized = [_resized(crop) for crop in crops]
    out: list[Recognised] = [Recognised("", 0.0)] * len(crops)
    order = sorted(range(len(sized)), key=lambda i: sized[i].shape[2])
    for batch in _batches(order, [sized[i].shape[2] for i in order]):
        width = max(MIN_WIDTH, max(sized[i].shape[2] for i in batch))
        images = np.zeros((len(batch), 3, HEIGHT, width), np.float32)
        for row, i in enumerate(batch):
            images[row, :, :, : sized[i].shape[2]] = sized[i]
        preds = rec.session(images)[0]
        for row, i in enumerate(batch):
            out[i] = _decode(preds[row], rec.postprocess_op.character)
    return out


HEIGHT = 48  # the recogniser's input height (PP-OCRv4)
MIN_WIDTH = 320
MAX_WIDTH = 48 * 40  # a longer line is squeezed (no cell or heading line of a report is that long)
BATCH_PIXELS = 960  # padded width × crops per run: more makes runs slower per crop on one thread
MAX_BATCH = 32


def _batches(order: list[int], widths: list[int]) -> list[list[int]]:
    """Consecutive crops (sorted by width) in runs of at most BATCH_PIXELS of padded width."""
    out: list[list[int]] = []
    for i, width in zip(order, widths, strict=True):
        if out and len(out[-1]) < MAX_BATCH and (len(out[-1]) + 1) * max(width, MIN_WIDTH) <= BATCH_PIXELS:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def _resized(crop: np.ndarray) -> np.ndarray:
    import cv2

    h, w = crop.shape[:2]
    width = max(8, min(MAX_WIDTH, int(np.ceil(HEIGHT * w / max(1, h)))))
    image = cv2.resize(crop, (width, HEIGHT)).astype(np.float32)
    return (image.transpose((2, 0, 1)) / 255.0 - 0.5) / 0.5


def _decode(pred: np.ndarray, characters: list[str]) -> Recognised:
    """CTC greedy decoding: repeated indices merged, blanks (index 0) dropped; the confidence is the
    lowest probability among the characters kept."""
    index = pred.argmax(axis=1)
    probability = pred.max(axis=1)
    keep = np.ones(len(index), dtype=bool)
    keep[1:] = index[1:] != index[:-1]
    keep &= index != 0
    text = "".join(characters[k] for k in index[keep])
    if not text.strip():
        return Recognised("", 0.0)
    return Recognised(text.strip(), float(probability[keep].min()))
