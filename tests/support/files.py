"""Files built in memory for the upload tests: a Word document and an Excel workbook naming a pupil, a tiny real
PNG, a one-page PDF with real text, and an Office package with parts added or changed."""
import io
import struct
import zipfile
import zlib

import docx
import openpyxl


def make_png(width: int = 4, height: int = 4) -> bytes:
    """A real (tiny) PNG: signature, IHDR, IDAT, IEND with correct CRCs."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"".join(bytes((x * 40, y * 40, 200)) for x in range(width)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def make_docx() -> bytes:
    d = docx.Document()
    d.add_paragraph("Pastoral note for Amelia Watson")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "UPN", "A820106510023"
    d.sections[0].header.paragraphs[0].text = "CONFIDENTIAL"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def make_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Year 9"
    ws.append(["Name", "DOB", "Notes"])
    ws.append(["Leo Fischer", "14/03/2011", "EAL"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_pdf(text: str, *, encrypt: bool = False) -> bytes:
    """A one-page PDF with real text (Helvetica, one Tj) - written by hand: no PDF writer is installed."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    if encrypt:
        import pypdf
        reader = pypdf.PdfReader(io.BytesIO(out))
        writer = pypdf.PdfWriter()
        writer.append(reader)
        writer.encrypt(user_password="secret", algorithm="AES-128")
        buf = io.BytesIO()
        writer.write(buf)
        out = buf.getvalue()
    return out


def edited(data: bytes, parts: dict[str, bytes], types: dict[str, str] | None = None,
           change: dict[str, tuple[bytes, bytes]] | None = None) -> bytes:
    """`data` with parts added or replaced, declared with `types`, and (old, new) replacements in existing parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = parts.pop(info.filename, None) or src.read(info)
            old, new = (change or {}).get(info.filename, (b"", b""))
            body = body.replace(old, new, 1) if old else body
            if info.filename == "[Content_Types].xml":
                for name, ctype in (types or {}).items():
                    body = body.replace(b"</Types>", f'<Override PartName="/{name}" ContentType="{ctype}"/></Types>'
                                        .encode())
            dst.writestr(info, body)
        for name, body in parts.items():
            dst.writestr(name, body)
    return out.getvalue()
