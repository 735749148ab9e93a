"""A report as a .docx, written as WordprocessingML directly (no python-docx: ~100× faster).

The package is minimal but complete ([Content_Types].xml, relationships, styles, core and app
properties, word/document.xml) and opens in python-docx, docx2python, Word and LibreOffice.
Zip members carry a fixed timestamp, so the same spec and quirks give the same bytes.

Tables follow the Word model (`layout.word_rows`): `w:gridSpan` for column spans, `w:vMerge`
restart/continuation cells for row spans. Quirks:
- docx_vmerge_continue: continuations written `<w:vMerge w:val="continue"/>` (LibreOffice), not bare;
- docx_grid_before: table 三 header rows carry `w:gridBefore`, table 四 rows `w:gridAfter`;
- docx_sdt: table 四 value cells each in a `w:sdt`, table 三 rows 一/二 in one row-level `w:sdt`;
- docx_nested_table: the corner note of table 三 as a table nested in its cell.
"""

from __future__ import annotations

import functools
import io
import random
import zipfile
from collections.abc import Iterable

from tests.synth.layout import Layout, LCell, LPara, LTable, build, word_rows
from tests.synth.spec import ReportSpec

FORMAT = "docx"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DATE = (2024, 1, 20, 9, 0, 0)
# the namespaces Word declares on w:document (readers such as docx2python expect `r` at least)
_DOC_NS = (
    'xmlns:wpc="http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:w10="urn:schemas-microsoft-com:office:word" '
    f'xmlns:w="{W_NS}" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
    'xmlns:wne="http://schemas.microsoft.com/office/word/2006/wordml" '
    'mc:Ignorable="w14"'
)

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" '
    'Target="docProps/app.xml"/>'
    "</Relationships>"
)
_DOC_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<w:styles xmlns:w="{W_NS}">'
    '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:eastAsia="仿宋_GB2312" '
    'w:hAnsi="Times New Roman"/><w:sz w:val="24"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr>'
    "</w:rPrDefault><w:pPrDefault/></w:docDefaults>"
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>'
    '<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/>'
    '<w:qFormat/><w:pPr><w:jc w:val="center"/></w:pPr><w:rPr><w:b/><w:sz w:val="44"/></w:rPr></w:style>'
    '<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/>'
    '<w:qFormat/><w:pPr><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="32"/></w:rPr></w:style>'
    '<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/>'
    '<w:qFormat/><w:pPr><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:sz w:val="28"/></w:rPr></w:style>'
    '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
    '<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:left w:w="108" w:type="dxa"/>'
    '<w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>'
    '<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/>'
    '<w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="auto"/>'
    '<w:left w:val="single" w:sz="4" w:space="0" w:color="auto"/>'
    '<w:bottom w:val="single" w:sz="4" w:space="0" w:color="auto"/>'
    '<w:right w:val="single" w:sz="4" w:space="0" w:color="auto"/>'
    '<w:insideH w:val="single" w:sz="4" w:space="0" w:color="auto"/>'
    '<w:insideV w:val="single" w:sz="4" w:space="0" w:color="auto"/></w:tblBorders></w:tblPr></w:style>'
    "</w:styles>"
)
_SECT = (
    '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
    '<w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1588" w:header="851" w:footer="1474" '
    'w:gutter="0"/></w:sectPr>'
)
_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def render(spec: ReportSpec, quirks: Iterable[str] = ()) -> bytes:
    """The .docx bytes of `spec` with the applicable quirks."""
    return render_layout(build(spec, FORMAT, quirks))


def _runs(text: str, rpr: str) -> str:
    lines = text.translate(_ESC).split("\n")
    inner = "<w:br/>".join(f'<w:t xml:space="preserve">{line}</w:t>' for line in lines)
    return f"<w:r>{rpr}{inner}</w:r>" if text else ""


@functools.lru_cache(maxsize=4096)
def _para(text: str, ppr: str = "", rpr: str = "") -> str:
    return f"<w:p>{ppr}{_runs(text, rpr)}</w:p>"


class _Writer:
    def __init__(self, layout: Layout):
        self.layout = layout
        self.rng = random.Random(layout.rng_seed + ":docx")
        self.continue_val = "docx_vmerge_continue" in layout.quirks
        self.sdt_id = 1000
        self.cell_rpr = self.rng.choice(
            ("", '<w:rPr><w:sz w:val="21"/></w:rPr>', '<w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr>')
        )
        self.heading_styled = self.rng.random() < 0.5
        self.cache: dict[tuple, str] = {}

    def paragraph(self, p: LPara) -> str:
        if p.style == "title":
            if self.rng.random() < 0.5:
                return _para(p.text, '<w:pPr><w:pStyle w:val="Title"/></w:pPr>')
            return _para(
                p.text, '<w:pPr><w:jc w:val="center"/></w:pPr>', '<w:rPr><w:b/><w:sz w:val="44"/></w:rPr>'
            )
        if p.style == "subtitle":
            return _para(p.text, '<w:pPr><w:jc w:val="center"/></w:pPr>')
        if p.style in ("heading", "subheading"):
            level = "Heading1" if p.style == "heading" else "Heading2"
            if self.heading_styled:
                return _para(p.text, f'<w:pPr><w:pStyle w:val="{level}"/></w:pPr>')
            return _para(p.text, '<w:pPr><w:ind w:firstLine="640"/></w:pPr>', "<w:rPr><w:b/></w:rPr>")
        return _para(p.text, '<w:pPr><w:ind w:firstLine="640"/></w:pPr>')

    def sdt(self, inner: str) -> str:
        self.sdt_id += 1
        return f'<w:sdt><w:sdtPr><w:id w:val="{self.sdt_id}"/></w:sdtPr><w:sdtContent>{inner}</w:sdtContent></w:sdt>'

    def cell(self, cell: LCell, cont: bool, width: int) -> str:
        if cell.nested is None and not cell.sdt:
            key = (cell.paras, cell.colspan, cell.rowspan > 1, cell.role != "label", cont, width)
            xml = self.cache.get(key)
            if xml is None:
                xml = self.cache[key] = self._cell(cell, cont, width)
            return xml
        return self._cell(cell, cont, width)

    def _cell(self, cell: LCell, cont: bool, width: int) -> str:
        span = f'<w:gridSpan w:val="{cell.colspan}"/>' if cell.colspan > 1 else ""
        tcw = f'<w:tcW w:w="{width * cell.colspan}" w:type="dxa"/>'
        if cont:
            vm = '<w:vMerge w:val="continue"/>' if self.continue_val else "<w:vMerge/>"
            return f'<w:tc><w:tcPr>{tcw}{span}{vm}<w:vAlign w:val="center"/></w:tcPr><w:p/></w:tc>'
        vm = '<w:vMerge w:val="restart"/>' if cell.rowspan > 1 else ""
        jc = '<w:pPr><w:jc w:val="center"/></w:pPr>' if cell.role != "label" else ""
        body = "".join(_para(p, jc, self.cell_rpr) for p in cell.paras)
        if cell.nested is not None:
            body += self.table(cell.nested, 600) + "<w:p/>"
        xml = f'<w:tc><w:tcPr>{tcw}{span}{vm}<w:vAlign w:val="center"/></w:tcPr>{body}</w:tc>'
        return self.sdt(xml) if cell.sdt else xml

    def table(self, table: LTable, width: int = 0) -> str:
        rows, ncols = word_rows(table)
        width = width or max(400, 9000 // max(ncols, 1))
        grid = "".join(f'<w:gridCol w:w="{width}"/>' for _ in range(ncols))
        out = [
            '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
            '<w:jc w:val="center"/><w:tblLook w:val="04A0"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>"
        ]
        sdt_start = {a: b for a, b in table.row_sdt}
        pending_end = None
        buf: list[str] = []
        for r, row in enumerate(rows):
            trpr = ""
            gb, ga = table.grid_before.get(r, 0), table.grid_after.get(r, 0)
            if gb or ga:
                trpr = "<w:trPr>"
                if gb:
                    trpr += f'<w:gridBefore w:val="{gb}"/><w:wBefore w:w="{gb * width}" w:type="dxa"/>'
                if ga:
                    trpr += f'<w:gridAfter w:val="{ga}"/><w:wAfter w:w="{ga * width}" w:type="dxa"/>'
                trpr += "</w:trPr>"
            xml = "<w:tr>" + trpr + "".join(self.cell(c, cont, width) for c, _col, cont in row) + "</w:tr>"
            if r in sdt_start:
                pending_end = sdt_start[r]
                buf = []
            if pending_end is not None:
                buf.append(xml)
                if r == pending_end:
                    out.append(self.sdt("".join(buf)))
                    pending_end = None
                continue
            out.append(xml)
        out.append("</w:tbl>")
        return "".join(out)

    def document(self) -> str:
        parts = []
        prev_table = False
        for block in self.layout.blocks:
            if isinstance(block, LTable):
                if block.page_break_before:
                    parts.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
                elif prev_table:
                    parts.append("<w:p/>")
                parts.append(self.table(block))
                prev_table = True
            else:
                parts.append(self.paragraph(block))
                prev_table = False
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f"<w:document {_DOC_NS}><w:body>{''.join(parts)}<w:p/>{_SECT}</w:body></w:document>"
        )


def _core(creator: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title></dc:title><dc:creator>{creator}</dc:creator>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-20T09:00:00Z</dcterms:created>'
        "</cp:coreProperties>"
    )


def _app(application: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        f"<Application>{application}</Application></Properties>"
    )


def render_layout(layout: Layout) -> bytes:
    writer = _Writer(layout)
    document = writer.document()
    if "docx_vmerge_continue" in layout.quirks:
        application = (
            "LibreOffice/7.6.4.1$Linux_X86_64 LibreOffice_project/e19e193f88cd6c0525a17fb7a176ed8e6a3e2aa1"
        )
    else:
        application = writer.rng.choice(("Microsoft Office Word", "WPS Office_11.1.0.11365"))
    parts = [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _RELS),
        ("word/document.xml", document),
        ("word/_rels/document.xml.rels", _DOC_RELS),
        ("word/styles.xml", _STYLES),
        ("docProps/core.xml", _core(writer.rng.choice(("Administrator", "user", "dell", "微软用户")))),
        ("docProps/app.xml", _app(application)),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"), compresslevel=1)
    return buf.getvalue()
