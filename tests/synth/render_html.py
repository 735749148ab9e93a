"""A report as an HTML page.

Default: a plain UTF-8 page, the report in a content `<div>`, tables with rowspan/colspan.
Quirks (see quirks.py): html_word (Word-exported markup: mso-* styles, `<o:p>`, MsoNormal,
unquoted attributes), html_trs (a government CMS page: TRS_Editor body inside site chrome —
breadcrumb 当前位置, 来源/发布时间, 附件下载, 上一篇/下一篇 links naming other reports, footer),
html_js (the body in a JavaScript string written into the page by a script), html_gbk (GBK bytes,
charset declared only in `<meta>`; wins over html_bom), html_bom (UTF-8 BOM), html_bad_rowspan
(`rowspan="2;"`). Non-breaking spaces in cells are written `&nbsp;`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from tests.synth.layout import Layout, LCell, LPara, LTable, build
from tests.synth.spec import ReportSpec

FORMAT = "html"

_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\u00a0": "&nbsp;"})

_WORD_STYLE = """<style>
<!--
 /* Font Definitions */
 @font-face
	{font-family:宋体;
	panose-1:2 1 6 0 3 1 1 1 1 1;
	mso-font-alt:SimSun;
	mso-font-charset:134;
	mso-generic-font-family:auto;
	mso-font-pitch:variable;
	mso-font-signature:3 680460288 22 0 262145 0;}
@font-face
	{font-family:仿宋_GB2312;
	mso-font-alt:仿宋;
	mso-font-charset:134;
	mso-generic-font-family:modern;
	mso-font-pitch:fixed;
	mso-font-signature:1 135135232 16 0 262144 0;}
 /* Style Definitions */
 p.MsoNormal, li.MsoNormal, div.MsoNormal
	{mso-style-unhide:no;
	mso-style-qformat:yes;
	mso-style-parent:"";
	margin:0cm;
	margin-bottom:.0001pt;
	text-align:justify;
	text-justify:inter-ideograph;
	mso-pagination:none;
	font-size:10.5pt;
	mso-bidi-font-size:12.0pt;
	font-family:"Times New Roman",serif;
	mso-fareast-font-family:宋体;
	mso-font-kerning:1.0pt;}
span.GramE
	{mso-style-name:"";
	mso-gram-e:yes;}
.MsoChpDefault
	{mso-style-type:export-only;
	mso-default-props:yes;
	font-size:10.0pt;
	mso-ansi-font-size:10.0pt;
	mso-bidi-font-size:10.0pt;
	mso-ascii-font-family:"Times New Roman";
	mso-hansi-font-family:"Times New Roman";
	mso-font-kerning:0pt;}
 /* Page Definitions */
 @page WordSection1
	{size:595.3pt 841.9pt;
	margin:72.0pt 90.0pt 72.0pt 90.0pt;
	mso-header-margin:42.55pt;
	mso-footer-margin:49.6pt;
	mso-paper-source:0;
	layout-grid:15.6pt;}
div.WordSection1
	{page:WordSection1;}
-->
</style>
<!--[if gte mso 10]>
<style>
 /* Style Definitions */
 table.MsoNormalTable
	{mso-style-name:普通表格;
	mso-tstyle-rowband-size:0;
	mso-tstyle-colband-size:0;
	mso-style-noshow:yes;
	mso-style-priority:99;
	mso-style-parent:"";
	mso-padding-alt:0cm 5.4pt 0cm 5.4pt;
	mso-para-margin:0cm;
	mso-para-margin-bottom:.0001pt;
	mso-pagination:widow-orphan;
	font-size:10.0pt;
	font-family:"Times New Roman",serif;}
</style>
<![endif]-->"""


def render(spec: ReportSpec, quirks: Iterable[str] = ()) -> bytes:
    """The HTML bytes of `spec` with the applicable quirks."""
    return render_layout(build(spec, FORMAT, quirks))


def _esc(text: str) -> str:
    return text.translate(_ESC)


class _Writer:
    def __init__(self, layout: Layout):
        self.layout = layout
        self.q = layout.quirks
        self.rng = random.Random(layout.rng_seed + ":html")
        self.word = "html_word" in self.q
        self.bad_span = "html_bad_rowspan" in self.q
        self.br = self.rng.choice(("<br>", "<br/>", "<br />"))
        self.td_p = self.rng.random() < 0.5  # clean style: text in <p> inside cells, or bare

    # ---- clean markup

    def span_attrs(self, cell: LCell) -> str:
        attrs = ""
        if cell.rowspan > 1:
            val = str(cell.rowspan)
            if self.bad_span and self.rng.random() < 0.7:
                val += ";"
            attrs += f' rowspan="{val}"' if not self.word or ";" in val else f" rowspan={val}"
        if cell.colspan > 1:
            attrs += f' colspan="{cell.colspan}"' if not self.word else f" colspan={cell.colspan}"
        return attrs

    def cell(self, cell: LCell) -> str:
        attrs = self.span_attrs(cell)
        if self.word:
            width = 56 * cell.colspan
            paras = "".join(
                "<p class=MsoNormal align=center style='text-align:center;mso-pagination:widow-orphan'>"
                '<span style=\'font-size:10.5pt;font-family:仿宋_GB2312;mso-hansi-font-family:"Times New Roman";'
                f"color:#333333;mso-font-kerning:0pt'>{_esc(p).replace(chr(10), '<br>') if p.strip(' ') else '&nbsp;'}"
                "<span lang=EN-US><o:p></o:p></span></span></p>"
                for p in cell.paras
            )
            return (
                f"<td width={width}{attrs} valign=center style='width:{width * 0.75:.1f}pt;border:solid windowtext 1.0pt;"
                "border-top:none;mso-border-top-alt:solid windowtext .5pt;mso-border-alt:solid windowtext .5pt;"
                f"padding:0cm 5.4pt 0cm 5.4pt'>{paras}</td>"
            )
        texts = [_esc(p).replace("\n", self.br) for p in cell.paras]
        inner = "".join(f"<p>{t}</p>" for t in texts) if len(texts) > 1 or self.td_p else texts[0]
        return f"<td{attrs}>{inner}</td>"

    def table(self, table: LTable) -> str:
        rows = "".join("<tr>" + "".join(self.cell(c) for c in row) + "</tr>\n" for row in table.rows)
        if self.word:
            return (
                "<div align=center><table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 "
                "style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;"
                "mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt;mso-border-insideh:.5pt solid windowtext;"
                f"mso-border-insidev:.5pt solid windowtext'>\n{rows}</table></div>\n"
            )
        return f'<table border="1" cellspacing="0" cellpadding="0" style="border-collapse:collapse">\n<tbody>\n{rows}</tbody>\n</table>\n'

    def paragraph(self, p: LPara) -> str:
        text = _esc(p.text)
        if self.word:
            if p.style == "title":
                return (
                    "<p class=MsoNormal align=center style='text-align:center;line-height:28.0pt;"
                    "mso-line-height-rule:exactly'><b><span style='font-size:22.0pt;font-family:方正小标宋简体;"
                    f"mso-hansi-font-family:宋体'>{text}<span lang=EN-US><o:p></o:p></span></span></b></p>\n"
                )
            bold = ("<b>", "</b>") if p.style in ("heading", "subheading") else ("", "")
            font = "黑体" if p.style == "heading" else "仿宋_GB2312"
            return (
                "<p class=MsoNormal style='text-indent:32.0pt;mso-char-indent-count:2.0;line-height:28.0pt;"
                f"mso-line-height-rule:exactly'>{bold[0]}<span style='font-size:16.0pt;font-family:{font};"
                f"mso-hansi-font-family:宋体'>{text}<span lang=EN-US><o:p></o:p></span></span>{bold[1]}</p>\n"
            )
        if p.style == "title":
            return f'<p style="text-align:center"><strong>{text}</strong></p>\n'
        if p.style in ("heading", "subheading"):
            return f'<p style="text-indent: 2em;"><strong>{text}</strong></p>\n'
        if p.style == "subtitle":
            return f'<p style="text-align:center">{text}</p>\n'
        return f'<p style="text-indent: 2em;">{text}</p>\n'

    def content(self, with_title: bool) -> str:
        parts = []
        prev_table = False
        for block in self.layout.blocks:
            if isinstance(block, LTable):
                if prev_table or block.page_break_before:
                    parts.append(
                        "<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>\n"
                        if self.word
                        else "<p>&nbsp;</p>\n"
                    )
                parts.append(self.table(block))
                prev_table = True
                continue
            prev_table = False
            if block.style == "title" and not with_title:
                continue
            parts.append(self.paragraph(block))
        return "".join(parts)

    # ---- pages

    def charset(self) -> str:
        return self.rng.choice(("gbk", "gb2312", "GBK", "GB2312")) if "html_gbk" in self.q else "utf-8"

    def head_meta(self, charset: str) -> str:
        if charset == "utf-8" and self.rng.random() < 0.5:
            return '<meta charset="utf-8">'
        return f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'

    def js_wrap(self, html: str) -> str:
        """The body written by a script from a string literal, as some CMSs serve it."""
        s = html.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("</", "<\\/")
        if self.rng.random() < 0.5:
            return f'<div id="zoom"></div>\n<script type="text/javascript">\nvar content = "{s}";\ndocument.getElementById("zoom").innerHTML = content;\n</script>\n'
        return (
            f'<div id="zoom">\n<script type="text/javascript">\ndocument.write("{s}");\n</script>\n</div>\n'
        )

    def page(self) -> str:
        lay = self.layout
        charset = self.charset()
        title = _esc(lay.title)
        trs = "html_trs" in self.q
        content = self.content(with_title=not trs or self.rng.random() < 0.5)
        if self.word:
            content = f"<div class=WordSection1 style='layout-grid:15.6pt'>\n{content}</div>\n"
        if "html_js" in self.q:
            content = self.js_wrap(content)
        if trs:
            return self.trs_page(charset, title, content)
        if self.word:
            return (
                '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
                'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
                'xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n'
                f'<meta http-equiv=Content-Type content="text/html; charset={charset}">\n'
                '<meta name=ProgId content=Word.Document>\n<meta name=Generator content="Microsoft Word 15">\n'
                f"<title>{title}</title>\n{_WORD_STYLE}\n</head>\n"
                f"<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>\n{content}</body>\n</html>\n"
            )
        return (
            f"<!DOCTYPE html>\n<html>\n<head>\n{self.head_meta(charset)}\n<title>{title}</title>\n</head>\n"
            f'<body>\n<div class="content">\n{content}</div>\n</body>\n</html>\n'
        )

    def trs_page(self, charset: str, title: str, content: str) -> str:
        lay, rng = self.layout, self.rng
        spec = lay.spec
        site = _esc(spec.agency.removesuffix("人民政府") + "人民政府门户网站")
        publisher = _esc(lay.publisher)
        column = rng.choice(("政府信息公开年报", "政府信息公开工作年度报告", "年度报告"))
        nav = "".join(
            f'<li><a href="/{p + "/" if p else ""}">{n}</a></li>'
            for p, n in (
                ("", "首页"),
                ("zwgk", "政务公开"),
                ("zwfw", "政务服务"),
                ("hdjl", "互动交流"),
                ("zjxx", "走进本地"),
            )
        )
        year = spec.year or 2020
        others = [
            f"{_esc(spec.agency)}{year - 1}年政府信息公开工作年度报告",
            f"{_esc(spec.agency)}{year + 1}年政府信息公开工作年度报告",
        ]
        doc_id = rng.randint(10000, 99999)
        stamp = lay.published[:10].replace("-", "")
        attachment = ""
        if rng.random() < 0.7:
            attachment = f'<div class="fujian">附件下载：<a href="./P0{stamp}{doc_id}.docx" target="_blank">{title}.docx</a></div>\n'
        return (
            f"<!DOCTYPE html>\n<html>\n<head>\n{self.head_meta(charset)}\n"
            f'<meta name="SiteName" content="{site}"/>\n<meta name="ColumnName" content="{column}"/>\n'
            f'<meta name="ArticleTitle" content="{title}"/>\n<meta name="PubDate" content="{lay.published}"/>\n'
            f'<meta name="ContentSource" content="{publisher}"/>\n'
            f"<title>{title}_{column}_{site}</title>\n"
            '<link rel="stylesheet" type="text/css" href="/images/trt_ui_v2.css">\n</head>\n<body>\n'
            f'<div class="header"><div class="logo"><img src="/images/site_logo.png" alt="{site}"/></div>'
            f'<ul class="nav">{nav}</ul></div>\n'
            f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; '
            f'<a href="/zwgk/zfxxgk/">政府信息公开</a> &gt; <a href="./">{column}</a></div>\n'
            '<div class="article">\n'
            f'<h1 class="article-title">{title}</h1>\n'
            f'<div class="article-info"><span>来源：{publisher}</span><span>发布时间：{lay.published}</span>'
            '<span>浏览次数：<script src="/count.js"></script></span><span>字号：[ <a>大</a> <a>中</a> <a>小</a> ]</span></div>\n'
            f'<div class="article-content" id="zoom_box">\n<div class="TRS_Editor">\n{content}</div>\n</div>\n'
            f"{attachment}"
            f'<div class="prev-next"><p>上一篇：<a href="../{year}01/t{year}0115_{doc_id - 7}.htm">{others[0]}</a></p>'
            f'<p>下一篇：<a href="../{year + 2}01/t{year + 2}0118_{doc_id + 9}.htm">{others[1]}</a></p></div>\n'
            '<div class="share">分享到：<a>微信</a> <a>微博</a> <a href="javascript:window.print()">【打印本页】</a> '
            '<a href="javascript:window.close()">【关闭窗口】</a></div>\n'
            "</div>\n"
            f'<div class="footer"><p>主办单位：{site}　承办：{publisher}</p>'
            f"<p>网站标识码：{rng.randint(1000000000, 9999999999)}　备案号：ICP备{rng.randint(10000000, 99999999)}号</p></div>\n"
            "</body>\n</html>\n"
        )


def render_layout(layout: Layout) -> bytes:
    writer = _Writer(layout)
    page = writer.page()
    if "html_gbk" in layout.quirks:
        return page.encode("gbk", errors="xmlcharrefreplace")
    data = page.encode("utf-8")
    if "html_bom" in layout.quirks:
        data = b"\xef\xbb\xbf" + data
    return data
