"""The 退订凭证 as a PNG image the member can download and keep."""

from __future__ import annotations

import io
import shutil
import subprocess
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .store import Receipt

WIDTH, MARGIN, LINE = 900, 48, 46


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A CJK font from fontconfig (make bootstrap installs fonts-noto-cjk); Pillow's default otherwise."""
    if shutil.which("fc-match"):
        out = subprocess.run(
            ["fc-match", "-f", "%{file}:%{index}", "Noto Sans CJK SC:lang=zh-cn"], capture_output=True, text=True
        ).stdout
        path, _, index = out.rpartition(":")
        if path:
            try:
                return ImageFont.truetype(path, size, index=int(index or 0))
            except OSError:
                pass
    return ImageFont.load_default(size)


def render_png(receipt: Receipt) -> bytes:
    rows = [
        ("凭证编号", receipt.receipt_no),
        ("账号", receipt.masked_account),
        ("服务", receipt.service),
        ("办理渠道", receipt.channel),
        ("办理时间", receipt.issued_label),
        ("生效日期", str(receipt.effective_on)),
        ("违约金", f"{receipt.penalty_yuan} 元"),
    ]
    details = [receipt.details[i : i + 30] for i in range(0, len(receipt.details), 30)]
    height = MARGIN * 2 + 150 + LINE * (len(rows) + len(details)) + 60
    img = Image.new("RGB", (WIDTH, height), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, WIDTH, 10], fill="#12b76a")
    d.text((MARGIN, MARGIN), "咪咕会员 · 退订凭证", font=_font(38), fill="#1f2329")
    d.text((MARGIN, MARGIN + 62), f"{receipt.kind_label}已办理成功", font=_font(26), fill="#067647")
    y = MARGIN + 130
    for label, value in rows + [("说明", details[0] if details else "")] + [("", more) for more in details[1:]]:
        d.text((MARGIN, y), label, font=_font(24), fill="#6b7280")
        d.text((MARGIN + 150, y), value, font=_font(24), fill="#1f2329")
        y += LINE
    d.text((MARGIN, y + 14), "请妥善保存本凭证,如有疑问请凭凭证编号联系客服 95016。", font=_font(20), fill="#6b7280")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
