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
    """Read one line of text from each crop (BGR uint8): text and its lowest character probability."""
    if not crops:
        return []
    results, _elapsed = engine().text_rec(crops, return_word_box=True)
    out = []
    for text, _mean, info in results:
        probabilities = info[4] if len(info) > 4 else []
        confidence = float(min(probabilities)) if text and probabilities else 0.0
        out.append(Recognised(text.strip(), confidence))
    return out
