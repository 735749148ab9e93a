"""OCR of report pages that exist only as pictures: scanned PDFs, tables pasted into pages as images.

Offline, on the CPU: RapidOCR's PP-OCRv4 models from its wheel (`engine`). Per page (`page`): deskew,
find the ruled tables (`ruling`), recognise each cell crop (`cells`), read the text lines outside the
tables. `reader` turns pages into the same tables and paragraphs every reader produces, each cell
carrying its page, confidence and box; the honesty rules (threshold, `ocr_values`) apply downstream.
"""
